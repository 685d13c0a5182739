import { useAppState } from './context';

/** The live connection's state. Always in the page (a live region), empty while connected. */
export function ConnectionBanner() {
  const connection = useAppState((state) => state.session.connection);
  const text = connection === 'reconnecting' ? 'Reconnecting…' : connection === 'connecting' ? 'Connecting…' : '';
  return (
    <div role="status" className={text ? 'banner banner-visible' : 'banner'} data-state={connection}>
      {text}
    </div>
  );
}
