// The front door: sign in, create an account, or continue as a guest.

import { FormEvent, useState } from 'react';
import { useClient } from './context';
import { useAction, useFocusOn } from './hooks';

type Mode = 'signIn' | 'register' | 'guest';

// The tabs are named apart from the forms' buttons ("Sign in", "Create account", "Continue as guest").
const tabs: { mode: Mode; label: string }[] = [
  { mode: 'signIn', label: 'Log in' },
  { mode: 'register', label: 'Register' },
  { mode: 'guest', label: 'Guest' },
];

export function AuthScreen({ notice, joinCode }: { notice: string | null; joinCode: string | null }) {
  const [mode, setMode] = useState<Mode>('signIn');
  const heading = useFocusOn<HTMLHeadingElement>(mode);
  const select = (next: Mode) => setMode(next);
  const onTabKey = (event: React.KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length]!;
    setMode(next.mode);
    document.getElementById(`auth-tab-${next.mode}`)?.focus();
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark" />
          VoiceFlow
        </div>
        <h1 ref={heading} tabIndex={-1} className="auth-title">
          {mode === 'signIn' ? 'Welcome back' : mode === 'register' ? 'Create your account' : 'Join as a guest'}
        </h1>
        {joinCode && <p className="auth-hint">Sign in to join the room with code <strong>{joinCode}</strong>.</p>}
        {notice && (
          <p className="notice" role="alert">
            {notice}
          </p>
        )}
        <div className="tabs" role="tablist" aria-label="How to enter">
          {tabs.map((tab, index) => (
            <button
              key={tab.mode}
              id={`auth-tab-${tab.mode}`}
              type="button"
              role="tab"
              aria-selected={mode === tab.mode}
              aria-controls="auth-panel"
              tabIndex={mode === tab.mode ? 0 : -1}
              className="tab"
              onClick={() => select(tab.mode)}
              onKeyDown={(event) => onTabKey(event, index)}
            >
              {tab.label}
            </button>
          ))}
        </div>
        <div id="auth-panel" role="tabpanel" aria-labelledby={`auth-tab-${mode}`}>
          {mode === 'signIn' && <SignInForm />}
          {mode === 'register' && <RegisterForm />}
          {mode === 'guest' && <GuestForm />}
        </div>
      </div>
    </main>
  );
}

function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

function SignInForm() {
  const client = useClient();
  const { busy, error, run } = useAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(() => client.signIn(email, password));
  };
  return (
    <form className="form" onSubmit={submit}>
      <label className="field">
        <span>Email</span>
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password</span>
        <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <FormError error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

function RegisterForm() {
  const client = useClient();
  const { busy, error, setError, run } = useAction();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirmPassword, setConfirmPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirmPassword) {
      setError('The passwords do not match.');
      return;
    }
    void run(() => client.register({ username, email, password, confirmPassword }));
  };
  return (
    <form className="form" onSubmit={submit}>
      <label className="field">
        {/* Named by its label text alone: the rule below is its description, not part of its name. */}
        <span id="username-label">Username</span>
        <input
          aria-labelledby="username-label"
          autoComplete="username"
          required
          minLength={3}
          maxLength={20}
          pattern="[A-Za-z0-9_]{3,20}"
          aria-describedby="username-rule"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <small id="username-rule">3 to 20 letters, digits or underscores.</small>
      </label>
      <label className="field">
        <span>Email</span>
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password</span>
        <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <label className="field">
        <span>Confirm password</span>
        <input
          type="password"
          autoComplete="new-password"
          required
          value={confirmPassword}
          onChange={(e) => setConfirmPassword(e.target.value)}
        />
      </label>
      <FormError error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        Create account
      </button>
    </form>
  );
}

function GuestForm() {
  const client = useClient();
  const { busy, error, run } = useAction();
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(() => client.continueAsGuest(name.trim()));
  };
  return (
    <form className="form" onSubmit={submit}>
      <p className="form-hint">Guests pick a name and can join rooms that allow guests. No password, no e-mail.</p>
      <label className="field">
        <span>Username</span>
        <input autoComplete="nickname" required maxLength={32} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <FormError error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        Continue as guest
      </button>
    </form>
  );
}
