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
  });
})();
