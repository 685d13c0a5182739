import type { PresenceStatus } from '../protocol';
import { hueOf, initials } from './format';

const statusText: Record<PresenceStatus, string> = { online: 'online', away: 'away', in_call: 'in a call', offline: 'offline' };

export function presenceLabel(status: PresenceStatus): string {
  return statusText[status];
}

/** A user's initials on their colour, with a presence dot and a speaking ring when given. */
export function Avatar({
  userId,
  name,
  status,
  speaking,
  size = 'medium',
}: {
  userId: string;
  name: string;
  status?: PresenceStatus;
  speaking?: boolean;
  size?: 'small' | 'medium' | 'large';
}) {
  return (
    <span className={`avatar avatar-${size} hue-${hueOf(userId)}`} data-speaking={speaking ? 'true' : undefined} aria-hidden="true">
      {initials(name)}
      {status && <span className="presence-dot" data-status={status} />}
    </span>
  );
}
