"""/admin/users and /admin/departments: staff accounts and handling units."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.admin import departments as depts
from engine.admin import users
from engine.errors import CityCaseError, NotFound
from engine.models import Department, Region
from web.admin import bp
from web.admin.common import actor, refused
from web.extensions import get_session
from web.security import now


def _choices() -> dict:
    s = get_session()
    return {"roles": users.STAFF_ROLES, "departments": [d for d in depts.list_departments(s) if d.active],
            "districts": list(s.scalars(select(Region).where(Region.level == "district").order_by(Region.code)))}


def _user_fields() -> users.UserFields:
    f = request.form
    return users.UserFields(display_name=f.get("display_name", ""), role=f.get("role", ""),
                            department_code=f.get("department_code") or None,
                            district_code=f.get("district_code") or None)


@bp.get("/users")
def user_list():
    q = request.args.get("q", "")[:100]
    return render_template("admin/users.html", found=users.search(get_session(), q), q=q, form={}, **_choices())


@bp.post("/users")
def user_create():
    username = request.form.get("username", "")
    try:
        users.create_user(get_session(), actor(), now(), username, request.form.get("password", ""), _user_fields())
    except CityCaseError as exc:
        return refused("admin/users.html", exc, found=users.search(get_session()), q="", form=request.form,
                       **_choices())
    flash(_("Account %(name)s created.", name=username.strip()), "success")
    return redirect(url_for("admin.user_page", username=username.strip()))


@bp.get("/users/<username>")
def user_page(username: str):
    return render_template("admin/user.html", user=users.get_user(get_session(), username), **_choices())


@bp.post("/users/<username>")
def user_change(username: str):
    s = get_session()
    try:
        users.change_user(s, actor(), now(), username, _user_fields())
    except CityCaseError as exc:
        return refused("admin/user.html", exc, user=users.get_user(s, username), **_choices())
    flash(_("Account %(name)s saved; if the role, department or district changed, its sessions have ended.",
            name=username), "success")
    return redirect(url_for("admin.user_page", username=username))


@bp.post("/users/<username>/active")
def user_active(username: str):
    s = get_session()
    active = request.form.get("active") == "1"
    try:
        users.set_active(s, actor(), now(), username, active)
    except CityCaseError as exc:
        return refused("admin/user.html", exc, user=users.get_user(s, username), **_choices())
    flash(_("Account %(name)s enabled.", name=username) if active else
          _("Account %(name)s disabled; its sessions have ended.", name=username), "success")
    return redirect(url_for("admin.user_page", username=username))


@bp.post("/users/<username>/password")
def user_password(username: str):
    s = get_session()
    try:
        users.reset_password(s, actor(), now(), username, request.form.get("password", ""))
    except CityCaseError as exc:
        return refused("admin/user.html", exc, user=users.get_user(s, username), **_choices())
    flash(_("The password of %(name)s is reset; its sessions have ended.", name=username), "success")
    return redirect(url_for("admin.user_page", username=username))


@bp.post("/users/<username>/second-factor")
def user_second_factor(username: str):
    s = get_session()
    try:
        users.reset_second_factor(s, actor(), now(), username)
    except CityCaseError as exc:
        return refused("admin/user.html", exc, user=users.get_user(s, username), **_choices())
    flash(_("The second factor of %(name)s is reset; its sessions have ended and it scans a new code at the "
            "next sign-in.", name=username), "success")
    return redirect(url_for("admin.user_page", username=username))


# --- departments --------------------------------------------------------------------------------

def _dept_fields() -> depts.DepartmentFields:
    f = request.form
    return depts.DepartmentFields(name=f.get("name", ""), handler_type=f.get("handler_type", "").strip(),
                                  name_en=f.get("name_en", ""), district_code=f.get("district_code") or None)


def _dept_context() -> dict:
    return {"all_departments": depts.list_departments(get_session()), **_choices()}


@bp.get("/departments")
def department_list():
    return render_template("admin/departments.html", form={}, **_dept_context())


@bp.post("/departments")
def department_create():
    code = request.form.get("code", "").strip()
    try:
        depts.create_department(get_session(), actor(), now(), code, _dept_fields())
    except CityCaseError as exc:
        return refused("admin/departments.html", exc, form=request.form, **_dept_context())
    flash(_("Department %(code)s created.", code=code), "success")
    return redirect(url_for("admin.department_list"))


@bp.get("/departments/<code>")
def department_page(code: str):
    dept = get_session().get(Department, code)
    if dept is None:
        raise NotFound(f"no department {code!r}")
    return render_template("admin/department.html", dept=dept, **_choices())


@bp.post("/departments/<code>")
def department_change(code: str):
    s = get_session()
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    try:
        depts.change_department(s, actor(), now(), code, _dept_fields(), active)
    except CityCaseError as exc:
        return refused("admin/department.html", exc, dept=s.get(Department, code), **_choices())
    flash(_("Department %(code)s saved.", code=code), "success")
    return redirect(url_for("admin.department_page", code=code))
