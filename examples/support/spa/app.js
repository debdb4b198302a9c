// The example single-page app. It holds no token: the browser sends the HttpOnly session
// cookie on same-origin requests, and the backend answers JSON (the backend-for-frontend
// pattern). Served with a CSP that allows only this file as script.
'use strict';

const $ = (id) => document.getElementById(id);

// Same-origin calls with the session cookie; JSON in, JSON out.
async function call(method, path) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    // Not JSON: shown by status only.
  }
  return { status: response.status, body };
}

async function refresh() {
  const { status, body } = await call('GET', '/auth/session');
  const signedIn = status === 200 && body && body.signed_in;
  $('sign-in').hidden = signedIn;
  $('user').hidden = !signedIn;
  $('action').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  if (status !== 200) {
    $('status').textContent = 'The session could not be read (' + status + ').';
  } else if (signedIn) {
    $('status').textContent = 'Signed in as ' + body.user.sub + '.';
    $('user').textContent = JSON.stringify(body.user, null, 2);
  } else {
    $('status').textContent = 'You are not signed in.';
    // A full-page navigation: the sign-in comes back to this page.
    $('sign-in').href = body.login_url + '?return_to=' + encodeURIComponent('/spa');
  }
  document.body.dataset.state = signedIn ? 'signed-in' : 'signed-out';
}

$('action').addEventListener('click', async () => {
  const { status, body } = await call('POST', '/api/action');
  $('result').textContent = status + ' ' + JSON.stringify(body);
  $('result').dataset.status = String(status);
});

$('sign-out').addEventListener('click', async () => {
  const { status, body } = await call('POST', '/auth/logout');
  if (status === 200 && body && body.provider_logout_url) {
    // End the ID.me session too; it sends the browser back to the app.
    window.location.assign(body.provider_logout_url);
    return;
  }
  $('result').textContent = '';
  await refresh();
});

refresh();
