// modgate public thread page: reply buttons and the comment form, which posts to the
// public API. Everything from the server is inserted as text, never as HTML.
(() => {
  'use strict';

  const form = document.getElementById('comment-form');
  if (!form) return;
  const status = form.querySelector('.form-status');
  const replying = form.querySelector('.replying');
  const submit = form.querySelector('button[type="submit"]');

  function cancelReply() {
    form.elements.parent_id.value = '';
    replying.hidden = true;
  }

  document.addEventListener('click', (e) => {
    const reply = e.target.closest('button[data-reply]');
    if (reply) {
      form.elements.parent_id.value = reply.dataset.reply;
      replying.querySelector('[data-replying-name]').textContent = reply.dataset.author;
      replying.hidden = false;
      form.elements.body.focus();
    }
    if (e.target.closest('[data-cancel-reply]')) cancelReply();
  });

  // The API counts Unicode scalar values of the trimmed text (an emoji is one character),
  // not UTF-16 units as `maxlength` would: count the same way here.
  const bodyField = form.elements.body;
  const bodyCount = document.getElementById('body-count');
  const maxChars = Number(bodyField.dataset.maxChars);
  function checkLength() {
    const n = [...bodyField.value.trim()].length;
    bodyCount.textContent = `${n} / ${maxChars} characters`;
    bodyField.setCustomValidity(n > maxChars ? `At most ${maxChars} characters (now ${n}).` : '');
  }
  bodyField.addEventListener('input', checkLength);

  function countText(n) {
    return n === 1 ? '1 Comment' : `${n} Comments`;
  }

  // A published comment appears at once, where the reader will find it after a reload.
  function append(id, name, body, parentId) {
    const li = document.createElement('li');
    li.className = 'comment';
    li.id = `comment-${id}`;
    const article = document.createElement('article');
    const header = document.createElement('header');
    const author = document.createElement('strong');
    author.className = 'author';
    author.textContent = name;
    header.append(author, ' just now');
    const text = document.createElement('p');
    text.className = 'text';
    text.textContent = body;
    article.append(header, text);
    const replies = document.createElement('ol');
    replies.className = 'replies empty';
    li.append(article, replies);
    const parent = parentId ? document.querySelector(`#comment-${parentId} > ol.replies`) : null;
    (parent ?? document.querySelector('ol.thread')).append(li);
    parent?.classList.remove('empty');
    const count = document.getElementById('comment-count');
    const n = Number(count.dataset.count) + 1;
    count.dataset.count = String(n);
    count.textContent = countText(n);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const f = form.elements;
    const payload = {
      article_id: form.dataset.article,
      author_name: f.author_name.value,
      body: f.body.value,
    };
    if (f.author_email.value.trim()) payload.author_email = f.author_email.value.trim();
    const parentId = f.parent_id.value ? Number(f.parent_id.value) : null;
    if (parentId) payload.parent_id = parentId;
    submit.disabled = true;
    status.textContent = 'Sending…';
    try {
      const r = await fetch('/api/v1/comments', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(payload),
      });
      const data = await r.json().catch(() => null);
      if (r.ok) {
        status.textContent = data.message;
        if (data.status === 'published' && r.status === 201) {
          append(data.id, payload.author_name.trim(), payload.body.trim(), parentId);
        }
        f.body.value = '';
        checkLength();
        cancelReply();
      } else {
        status.textContent = data?.error?.message ?? `Could not post (HTTP ${r.status}).`;
        const field = data?.error?.field;
        if (field && f[field]) {
          f[field].setAttribute('aria-invalid', 'true');
          f[field].focus();
        }
      }
    } catch (err) {
      status.textContent = `Could not post: ${err.message}`;
    } finally {
      submit.disabled = false;
    }
  });
})();
