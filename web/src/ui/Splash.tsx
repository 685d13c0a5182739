import { useEffect, useState } from 'react';

/** While the session is being restored from the refresh cookie. */
export function Splash() {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = window.setTimeout(() => setSlow(true), 3000);
    return () => window.clearTimeout(timer);
  }, []);
  return (
    <main className="splash" aria-busy="true">
      <div className="brand brand-large" aria-hidden="true">
        <span className="brand-mark" />
        VoiceFlow
      </div>
      <p>{slow ? 'Cannot reach the server yet. Retrying…' : 'Loading…'}</p>
    </main>
  );
}
