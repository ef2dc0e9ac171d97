import { ProblemNote, useAction } from '../ui';
import { signIn } from '../session';

/** The sign-in form: the server sets an HttpOnly session cookie, so the token never reaches page scripts. */
export function SignIn() {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    return run(() => signIn(String(form.get('username') ?? ''), String(form.get('password') ?? '')));
  };
  return (
    <main id="main" class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <img src="/icon.svg" alt="" width={48} height={48} />
        <h1 id="sign-in-title">Sign in to Glimpser</h1>
        <label>
          Username
          <input name="username" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <ProblemNote error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
