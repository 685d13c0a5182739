// `/join/:code`: joins the room the code belongs to, then opens it.

import { useEffect, useRef, useState } from 'react';
import { useClient, useNavigate } from './context';
import { describeError, useFocusOn } from './hooks';
import { Link } from './Link';

export function JoinView({ code }: { code: string }) {
  const client = useClient();
  const navigate = useNavigate();
  const [status, setStatus] = useState<{ kind: 'joining' } | { kind: 'pending' } | { kind: 'failed'; error: string }>({ kind: 'joining' });
  const heading = useFocusOn<HTMLHeadingElement>(status.kind);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    client.rooms
      .joinByCode(code)
      .then((outcome) => {
        if (outcome.kind === 'joined') navigate(`/rooms/${outcome.roomId}`, { replace: true });
        else setStatus({ kind: 'pending' });
      })
      .catch((error: unknown) => setStatus({ kind: 'failed', error: describeError(error) }));
  }, [client, code, navigate]);

  return (
    <section className="empty-view" aria-busy={status.kind === 'joining'}>
      <h1 ref={heading} tabIndex={-1}>
        {status.kind === 'joining' ? 'Joining…' : status.kind === 'pending' ? 'Request sent' : 'Could not join'}
      </h1>
      {status.kind === 'pending' && <p>This room needs an admin's approval. You will find it in your rooms once approved.</p>}
      {status.kind === 'failed' && <p role="alert">{status.error}</p>}
      {status.kind !== 'joining' && (
        <Link className="button" href="/">
          Go home
        </Link>
      )}
    </section>
  );
}
