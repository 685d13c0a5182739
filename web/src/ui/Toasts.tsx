import { useAppState, useClient } from './context';

/** Short notices; errors are announced at once (role alert), others politely. */
export function Toasts() {
  const client = useClient();
  const toasts = useAppState((state) => state.session.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast-${toast.tone}`} role={toast.tone === 'error' ? 'alert' : undefined}>
          <span>{toast.text}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => client.dismissToast(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
