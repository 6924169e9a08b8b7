"""Admin page for Open311 API keys: /admin/apikeys (role admin; CSRF-protected forms).

A new key is shown once, in the response to the form that created it (never flashed: flashed
messages travel in the signed but readable session cookie), with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template_string, request, url_for

from engine.apikeys import create_key, list_keys, revoke
from engine.errors import ValidationError
from web.extensions import get_session, rollback
from web.security import now, role_required

admin_bp = Blueprint("admin_keys", __name__, url_prefix="/admin/apikeys")

PAGE = """{% extends "base.html" %}
{% block title %}{{ pick("API 密钥", "API keys") }}{% endblock %}
{% block content %}
<h1>{{ pick("Open311 API 密钥", "Open311 API keys") }}</h1>
<p>{{ pick("市民应用（如 FixMyStreet）通过 /open311/v2 提交问题时需要密钥。系统只保存密钥的哈希值：新密钥只显示一次。",
           "Citizen apps (e.g. FixMyStreet) need a key to post requests to /open311/v2. Only a hash is stored: a new key is shown once.") }}</p>
{% if new_key %}
<div class="flash success" id="new-key">
  <p>{{ pick("新密钥", "New key") }} “{{ new_name }}”：</p>
  <p><code>{{ new_key }}</code></p>
  <p>{{ pick("请立即保存，它不会再次显示。", "Store it now: it will not be shown again.") }}</p>
</div>
{% endif %}
{% if error %}<p class="flash error">{{ error }}</p>{% endif %}
<form method="post" action="{{ url_for('admin_keys.create') }}">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <label>{{ pick("名称（使用方）", "Name (who uses it)") }}
    <input name="name" maxlength="100" required value="{{ name or '' }}"></label>
  <button type="submit">{{ pick("创建密钥", "Create key") }}</button>
</form>
<table class="list">
  <thead><tr><th>ID</th><th>{{ pick("名称", "Name") }}</th><th>{{ pick("创建时间", "Created") }}</th>
    <th>{{ pick("状态", "State") }}</th><th></th></tr></thead>
  <tbody>
  {% for key in keys %}
    <tr>
      <td>{{ key.id }}</td><td>{{ key.name }}</td><td>{{ key.created_at|localtime }}</td>
      <td>{{ pick("有效", "active") if key.active else pick("已吊销", "revoked") }}</td>
      <td>{% if key.active %}
        <form method="post" action="{{ url_for('admin_keys.revoke_key', key_id=key.id) }}" class="inline">
          <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
          <button type="submit">{{ pick("吊销", "Revoke") }}</button>
        </form>{% endif %}</td>
    </tr>
  {% else %}
    <tr><td colspan="5">{{ pick("还没有密钥。", "No keys yet.") }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}
"""


def _page(status: int = 200, **context):
    keys = list_keys(get_session())
    response = make_response(render_template_string(PAGE, keys=keys, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.get("")
@role_required("admin")
def index():
    return _page()


@admin_bp.post("")
@role_required("admin")
def create():
    name = request.form.get("name", "")
    try:
        row, plaintext = create_key(get_session(), name, now())
    except ValidationError as exc:
        rollback()
        return _page(400, error=str(exc), name=name)
    return _page(new_key=plaintext, new_name=row.name)


@admin_bp.post("/<int:key_id>/revoke")
@role_required("admin")
def revoke_key(key_id: int):
    row = revoke(get_session(), key_id)
    flash(f"API key {row.id} ({row.name}) revoked / 已吊销", "info")
    return redirect(url_for("admin_keys.index"))


__all__ = ["admin_bp"]
