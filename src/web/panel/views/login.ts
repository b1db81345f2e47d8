import { login } from '../../../client/index.ts';
import { h } from '../../shared/dom.ts';
import { saveSession } from '../session.ts';
import type { View } from './view.ts';

export function loginView(onLoggedIn: () => void): View {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { class: 'card login', onsubmit: (e) => void submit(e) },
    h('h1', null, 'edgecam'),
    h('p', { class: 'muted' }, 'Log in to see and control your cameras.'),
    h('label', null, 'Username', h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true })),
    h(
      'label',
      null,
      'Password',
      h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    ),
    error,
    button,
  );

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const data = new FormData(form);
    button.disabled = true;
    error.hidden = true;
    try {
      const result = await login(location.origin, String(data.get('username')), String(data.get('password')));
      saveSession({
        token: result.token,
        username: result.user.username,
        role: result.user.role,
        expiresAt: Date.now() + result.expires_in * 1000,
      });
      onLoggedIn();
    } catch (e) {
      const err = e as { code?: string; message: string; retryAfter?: number };
      error.textContent =
        err.code === 'invalid_credentials'
          ? 'Wrong username or password.'
          : err.code === 'rate_limited'
            ? `Too many failed attempts: try again in ${err.retryAfter ?? 60} s.`
            : err.message;
      error.hidden = false;
      button.disabled = false;
    }
  }
  return { el: h('div', { class: 'center' }, form), dispose: () => {} };
}
