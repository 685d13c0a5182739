// The root: the sign-in screen, or the signed-in shell with the route's view.

import { useEffect } from 'react';
import { AuthScreen } from './AuthScreen';
import { useAppState, useRoute } from './context';
import { Shell } from './Shell';
import { Splash } from './Splash';

export function App() {
  const auth = useAppState((state) => state.session.auth);
  const notice = useAppState((state) => state.session.notice);
  const route = useRoute();

  useEffect(() => {
    if (auth !== 'signedIn') document.title = 'VoiceFlow';
  }, [auth]);

  if (auth === 'restoring') return <Splash />;
  if (auth === 'signedOut') return <AuthScreen notice={notice} joinCode={route.name === 'join' ? route.code : null} />;
  return <Shell route={route} />;
}
