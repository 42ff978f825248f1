// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';
  // Keep a half-filled form when switching language: save its fields, restore them on the new page.
  var KEY = 'sst.form.' + location.pathname;
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('[data-lang-switch]');
    if (!link) return;
    var form = document.querySelector('main form[method="post"]');
    if (!form) return;
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === 'hidden' || el.type === 'password' || el.type === 'submit') return;
      if ((el.type === 'checkbox' || el.type === 'radio')) { if (el.checked) (data[el.name] = data[el.name] || []).push(el.value); }
      else data[el.name] = el.value;
    });
    try { sessionStorage.setItem(KEY, JSON.stringify(data)); } catch (e) { /* storage unavailable */ }
  });
  document.addEventListener('DOMContentLoaded', function () {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || 'null'); sessionStorage.removeItem(KEY); } catch (e) { saved = null; }
    var form = document.querySelector('main form[method="post"]');
    if (saved && form) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || !(el.name in saved)) return;
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = saved[el.name].indexOf(el.value) !== -1;
        else if (el.type !== 'hidden' && el.type !== 'password') el.value = saved[el.name];
      });
    }
    // After a decision, move focus to the new content so keyboard and screen-reader users land on it.
    var target = document.querySelector('[data-autofocus]') || (document.getElementById('error-summary'));
    if (target) target.focus();
    if (jobUnderway()) setTimeout(refreshJobs, JOB_POLL_MS);
  });

  // While a compliance job is queued or running, refresh its status regions in place (the Refresh link does
  // the same without JavaScript). Each region's live text keeps its element, so it is announced politely;
  // nothing takes focus, and controls that hold focus are left as they are.
  var JOB_POLL_MS = 4000;
  function jobUnderway() {
    return document.querySelector('[data-job-status][data-job-state="queued"], [data-job-status][data-job-state="running"]');
  }
  function replaceInner(el, next) {
    if (el && next && el.innerHTML !== next.innerHTML) el.innerHTML = next.innerHTML;
  }
  function refreshJobs() {
    if (!jobUnderway()) return;
    if (document.hidden) { setTimeout(refreshJobs, JOB_POLL_MS); return; }
    fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok || res.redirected) throw new Error('page unavailable');
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        Array.prototype.forEach.call(document.querySelectorAll('[data-job-status], [data-job-figures]'), function (el) {
          var next = el.id && fresh.getElementById(el.id);
          if (!next) return;
          if (el.hasAttribute('data-job-figures')) { replaceInner(el, next); return; }
          replaceInner(el.querySelector('[data-job-text]'), next.querySelector('[data-job-text]'));
          var controls = el.querySelector('[data-job-controls]');
          if (controls && !controls.contains(document.activeElement)) replaceInner(controls, next.querySelector('[data-job-controls]'));
          el.className = next.className;
          el.setAttribute('data-job-state', next.getAttribute('data-job-state'));
        });
        setTimeout(refreshJobs, JOB_POLL_MS);
      })
      .catch(function () { /* signed out or offline: the Refresh link still works */ });
  }
})();
