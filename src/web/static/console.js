// modgate console: keyboard moderation, delayed (undoable) decisions, bulk actions.
//
// Undo model: an approve/remove/restore is held here for a few seconds before it is
// posted; `u` (or the Undo button) cancels it unsent. Starting another action sends the
// held one at once, and leaving the page sends it with sendBeacon. The server only ever
// sees decisions the moderator let stand, so no "unapprove" transition is needed.
(() => {
  'use strict';

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const undoMs = Number(document.body.dataset.undoMs ?? 5000);
  const toast = document.getElementById('toast');
  const toastText = toast?.querySelector('.toast-text');
  const toastUndo = toast?.querySelector('[data-undo]');
  const help = document.getElementById('help');
  const REASONS = ['offensive', 'abusive', 'spam', 'hate_speech', 'threat', 'off_topic', 'other'];
  const VERB = { approve: 'Approved', remove: 'Removed', restore: 'Restored' };

  let focused = null;
  let held = null;          // { els, action, reason, note, timer }
  let choosingReason = null; // item waiting for a digit after `r`

  const live = () => Array.from(document.querySelectorAll('.item:not(.done):not(.held):not(.sending)'));
  const itemOf = (el) => el?.closest?.('.item') ?? null;

  function say(text, withUndo) {
    if (!toast) return;
    toastText.textContent = text;
    toastUndo.hidden = !withUndo;
    toast.hidden = false;
  }

  function setStatus(item, text) {
    const s = item.querySelector('.item-status');
    if (s) s.textContent = text;
  }

  function focusItem(item) {
    if (!item) return;
    if (focused) focused.classList.remove('focused');
    focused = item;
    item.classList.add('focused');
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: 'nearest' });
  }

  function move(delta) {
    const items = live();
    if (items.length === 0) return;
    const at = items.indexOf(focused);
    const next = at < 0 ? 0 : Math.min(items.length - 1, Math.max(0, at + delta));
    focusItem(items[next]);
  }

  // The next item to work on after `els` leave the live list.
  function focusAfter(els) {
    const items = live().filter((i) => !els.includes(i));
    const after = items.find((i) => els[els.length - 1].compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING);
    focusItem(after ?? items[items.length - 1]);
  }

  function describe(action, reason, n) {
    const what = n === 1 ? 'comment' : `${n} comments`;
    return `${VERB[action] ?? action} ${what}${reason ? ` (${reason.replace('_', ' ')})` : ''}`;
  }

  function params(h) {
    const p = new URLSearchParams();
    p.set('csrf', csrf);
    p.set('action', h.action);
    for (const el of h.els) p.append('ids', el.dataset.id);
    // The status this page showed: if another moderator decided first, the server refuses
    // (409 status_changed) instead of applying both decisions.
    const seen = new Set(h.els.map((el) => el.dataset.status));
    if (seen.size === 1) p.set('expected_status', [...seen][0]);
    if (h.reason) p.set('reason', h.reason);
    if (h.note) p.set('note', h.note);
    return p;
  }

  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    const data = await r.json().catch(() => null);
    if (r.status === 401) {
      location.href = '/console/login?next=' + encodeURIComponent(location.pathname + location.search);
    }
    if (!r.ok) throw new Error(data?.error?.message ?? `HTTP ${r.status}`);
    return data;
  }

  function updateCounts(counts) {
    if (!counts) return;
    for (const [key, n] of Object.entries(counts)) {
      const el = document.querySelector(`[data-count="${key}"]`);
      if (el) el.textContent = String(n);
    }
  }

  function hold(els, action, reason, note) {
    send(); // a new action lets the previous one go
    els = els.filter((e) => !e.classList.contains('done'));
    if (els.length === 0) return;
    const text = describe(action, reason, els.length);
    for (const el of els) {
      el.classList.add('held');
      setStatus(el, `${text}. Press u to undo.`);
    }
    held = { els, action, reason, note, timer: setTimeout(send, undoMs) };
    say(`${text}.`, true);
    if (els.includes(focused)) focusAfter(els);
  }

  function undo() {
    if (!held) return;
    const h = held;
    held = null;
    clearTimeout(h.timer);
    for (const el of h.els) {
      el.classList.remove('held');
      setStatus(el, '');
    }
    say(`Undone: ${describe(h.action, h.reason, h.els.length).toLowerCase()} was not sent.`, false);
    focusItem(h.els[0]);
  }

  async function send() {
    if (!held) return;
    const h = held;
    held = null;
    clearTimeout(h.timer);
    toastUndo.hidden = true;
    for (const el of h.els) el.classList.add('sending');
    try {
      const data = await post('/console/actions', params(h));
      const byId = new Map(data.results.map((r) => [String(r.id), r]));
      let ok = 0;
      for (const el of h.els) {
        const r = byId.get(el.dataset.id);
        el.classList.remove('sending', 'held');
        if (r?.ok) {
          ok += 1;
          el.classList.add('done');
          el.dataset.result = r.status;
          el.dataset.status = r.status;
          const box = el.querySelector('input.select');
          if (box) box.checked = false;
          setStatus(el, `${describe(h.action, h.reason, 1)}: now ${r.status}.`);
        } else {
          el.classList.add('failed');
          if (r?.error?.code === 'status_changed') el.classList.add('conflict');
          setStatus(el, `Not applied: ${r?.error?.message ?? 'unknown error'}`);
        }
      }
      updateCounts(data.counts);
      updateSelected();
      say(`${describe(h.action, h.reason, ok)}: saved.`, false);
    } catch (err) {
      for (const el of h.els) {
        el.classList.remove('sending', 'held');
        setStatus(el, `Not saved: ${err.message}`);
      }
      say(`Not saved: ${err.message}`, false);
    }
  }

  // Leaving the page must not lose a held decision.
  window.addEventListener('pagehide', () => {
    if (!held) return;
    clearTimeout(held.timer);
    navigator.sendBeacon('/console/actions', params(held));
    held = null;
  });

  function startReason(item) {
    if (item?.dataset.removable !== 'true') return;
    choosingReason = item;
    item.classList.add('choosing');
    setStatus(item, 'Remove: press 1 offensive, 2 abusive, 3 spam, 4 hate speech, 5 threat, 6 off topic, 7 other (Esc cancels).');
    item.querySelector('[data-reason]')?.classList.add('prompt');
  }

  function endReason() {
    if (!choosingReason) return;
    choosingReason.classList.remove('choosing');
    choosingReason.querySelector('[data-reason]')?.classList.remove('prompt');
    setStatus(choosingReason, '');
    choosingReason = null;
  }

  function noteOf(item) {
    return item.querySelector('input[name="note"]')?.value.trim() ?? '';
  }

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    if (help?.open) return; // the dialog handles Esc itself

    if (choosingReason) {
      const item = choosingReason;
      const n = Number(e.key);
      endReason();
      if (Number.isInteger(n) && n >= 1 && n <= REASONS.length) {
        e.preventDefault();
        hold([item], 'remove', REASONS[n - 1], noteOf(item));
      }
      return;
    }
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'a':
        if (focused?.dataset.positive) hold([focused], focused.dataset.positive, null, '');
        break;
      case 'r': startReason(focused); break;
      case 'u': undo(); break;
      case 'x': {
        const box = focused?.querySelector('input.select');
        if (box) { box.checked = !box.checked; updateSelected(); }
        break;
      }
      case '?': help?.showModal(); break;
      default: return;
    }
    e.preventDefault();
  });

  // Forms: with the script, decisions go through the same undoable path as the keys.
  document.addEventListener('submit', (e) => {
    const form = e.target;
    const action = e.submitter?.value;
    if (form.matches('[data-decision]')) {
      e.preventDefault();
      const item = itemOf(form);
      const reason = action === 'remove' ? form.elements.reason?.value : null;
      hold([item], action, reason, action === 'remove' ? noteOf(item) : '');
    } else if (form.id === 'bulk') {
      e.preventDefault();
      const els = Array.from(document.querySelectorAll('input.select:checked'))
        .map((b) => itemOf(b))
        .filter(Boolean);
      if (els.length === 0) { say('Select comments first (x or the checkboxes).', false); return; }
      hold(els, action, action === 'remove' ? form.elements.reason.value : null, '');
    } else if (form.matches('[data-author-form]')) {
      e.preventDefault();
      setStanding(form, action);
    }
  });

  async function setStanding(form, action) {
    const p = new URLSearchParams();
    p.set('csrf', csrf);
    p.set('action', action);
    p.set('comment_id', form.elements.comment_id.value);
    try {
      const { author } = await post('/console/authors', p);
      for (const item of document.querySelectorAll('.item')) {
        if (item.dataset.author !== author.key) continue;
        renderStanding(item, author);
      }
      say(`${author.name}: ${action.replace('premoderate', 'pre-moderate')} saved.`, false);
    } catch (err) {
      say(`Not saved: ${err.message}`, false);
    }
  }

  function renderStanding(item, author) {
    const standing = item.querySelector('[data-standing]');
    if (standing) {
      standing.replaceChildren();
      const badge = (cls, text) => {
        const b = document.createElement('span');
        b.className = `badge ${cls}`;
        b.textContent = text;
        standing.append(b);
      };
      if (author.banned) badge('banned', 'banned');
      if (author.premoderated) badge('premod', 'pre-moderated');
      if (!author.banned && !author.premoderated) standing.textContent = 'in good standing';
    }
    const form = item.querySelector('[data-author-form]');
    const [ban, premod] = form.querySelectorAll('button[name="action"]');
    ban.value = author.banned ? 'unban' : 'ban';
    ban.textContent = author.banned ? 'Lift ban' : 'Ban author';
    premod.value = author.premoderated ? 'unpremoderate' : 'premoderate';
    premod.textContent = author.premoderated ? 'End pre-moderation' : 'Pre-moderate author';
  }

  function updateSelected() {
    const n = document.querySelectorAll('input.select:checked').length;
    const el = document.querySelector('[data-selected]');
    if (el) el.textContent = String(n);
  }

  document.addEventListener('change', (e) => {
    if (e.target.matches('input.select')) updateSelected();
    if (e.target.matches('.filters select')) e.target.form.requestSubmit();
  });

  document.addEventListener('click', (e) => {
    if (e.target.closest('[data-undo]')) undo();
    if (e.target.closest('[data-help]')) help?.showModal();
    if (e.target.closest('[data-select-all]')) {
      const boxes = Array.from(document.querySelectorAll('.item:not(.done) input.select'));
      const all = boxes.every((b) => b.checked);
      for (const b of boxes) b.checked = !all;
      updateSelected();
    }
  });

  // Clicking into an item makes it the keyboard's item too.
  document.addEventListener('focusin', (e) => {
    const item = itemOf(e.target);
    if (item && item !== focused) {
      if (focused) focused.classList.remove('focused');
      focused = item;
      item.classList.add('focused');
    }
  });

  focusItem(live()[0]);
})();
