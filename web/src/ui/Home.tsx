// Signed in, no room open: join by code, and the public rooms.

import { FormEvent, useEffect, useState } from 'react';
import { useAppState, useClient, useNavigate } from './context';
import { describeError, useAction, useFocusOn } from './hooks';
import { pluralize } from './format';
import { ViewHeader } from './PhoneHeader';

export function Home() {
  const client = useClient();
  const navigate = useNavigate();
  const user = useAppState((state) => state.session.user);
  const directory = useAppState((state) => state.rooms.directory);
  const mine = useAppState((state) => state.rooms.mine);
  const heading = useFocusOn<HTMLHeadingElement>('home');
  const { busy, error, run } = useAction();
  const [code, setCode] = useState('');
  const [pending, setPending] = useState<string | null>(null);
  const [directoryError, setDirectoryError] = useState<string | null>(null);

  useEffect(() => {
    client.rooms.loadDirectory().catch((e: unknown) => setDirectoryError(describeError(e)));
  }, [client]);

  const join = (roomCode: string) =>
    run(async () => {
      setPending(null);
      const outcome = await client.rooms.joinByCode(roomCode);
      if (outcome.kind === 'joined') navigate(`/rooms/${outcome.roomId}`);
      else setPending(roomCode);
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void join(code);
  };

  return (
    <section className="home" aria-labelledby="home-title">
      <ViewHeader>
        <h1 id="home-title" ref={heading} tabIndex={-1}>
          Hello, {user?.username}
        </h1>
      </ViewHeader>
      <div className="home-body">
        <section className="card" aria-labelledby="join-title">
          <h2 id="join-title">Join a room</h2>
          <p className="form-hint">Ask a member for the room's code, or open their invite link.</p>
          <form className="inline-form" onSubmit={submit}>
            <label className="field grow">
              <span>Room code</span>
              <input required autoComplete="off" spellCheck={false} value={code} onChange={(e) => setCode(e.target.value)} />
            </label>
            <button type="submit" className="button primary" disabled={busy}>
              Join
            </button>
          </form>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {pending && <p className="form-hint">Request sent for {pending}: an admin of the room must approve it.</p>}
        </section>
        <section className="card" aria-labelledby="public-title">
          <h2 id="public-title">Public rooms</h2>
          {directoryError && <p className="form-error">{directoryError}</p>}
          {directory === null && !directoryError && <p className="form-hint">Loading…</p>}
          {directory?.length === 0 && <p className="form-hint">No public rooms yet.</p>}
          <ul className="directory">
            {directory?.map((room) => (
              <li key={room.id} className="directory-item">
                <div className="directory-text">
                  <strong>{room.name}</strong>
                  {room.description && <p>{room.description}</p>}
                  <small>{pluralize(room.memberCount, 'member')}</small>
                </div>
                {mine[room.id] ? (
                  <button type="button" className="button small" onClick={() => navigate(`/rooms/${room.id}`)} aria-label={`Open ${room.name}`}>
                    Open
                  </button>
                ) : (
                  <button type="button" className="button small" disabled={busy} onClick={() => void join(room.code)} aria-label={`Join ${room.name}`}>
                    Join
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}
