"""``/admin/webhooks``: the operator's endpoints told of ticket events (``services.webhooks_out``),
their settings and signing secrets (``services.webhook_settings``), and their latest
deliveries, a failed one with its reason and a button to send it again."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from helpdesk.services import webhook_settings as service

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
bp.before_request(admins_only)

LIST, PAGE = "admin/webhooks.html", "admin/webhook.html"


def _webhook(webhook_id):
    return db.session.get(Webhook, webhook_id) or abort(404)


def _typed():
    return {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
            "events": request.form.getlist("events"),
            "enabled": request.form.get("enabled") == "1"}


def _list(**extra):
    return {"webhooks": service.all_webhooks(), "events": service.EVENT_LABELS,
            "errors": {}, "typed": {"events": list(WEBHOOK_EVENTS)}, **extra}


def _page(webhook, **extra):
    return {"webhook": webhook, "deliveries": service.recent_deliveries(webhook),
            "events": service.EVENT_LABELS, "errors": {}, "typed": None, "secret": None,
            **extra}


@bp.get("")
def webhooks():
    """Every webhook, its failed deliveries counted, and a form to add one."""
    return render_template(LIST, **_list())


@bp.post("")
def create():
    """Add a webhook; its page opens with the signing secret, shown this once."""
    typed = _typed()
    try:
        webhook, secret = service.create_webhook(name=typed["name"], url=typed["url"],
                                                 events=typed["events"], actor=current_user)
    except service.WebhookError as error:
        db.session.rollback()
        return refused(LIST, **_list(errors={error.field: str(error)}, typed=typed))
    return render_template(PAGE, **_page(webhook, secret=secret,
                                         notice=f"Added the webhook {webhook.name}."))


@bp.get("/<int:webhook_id>")
def webhook(webhook_id):
    """One webhook: its settings and its latest deliveries."""
    return render_template(PAGE, **_page(_webhook(webhook_id)))


@bp.post("/<int:webhook_id>")
def update(webhook_id):
    """Change the name, address, events, or switch it on or off."""
    webhook = _webhook(webhook_id)
    typed = _typed()
    try:
        service.update_webhook(webhook, name=typed["name"], url=typed["url"],
                               events=typed["events"], enabled=typed["enabled"],
                               actor=current_user)
    except service.WebhookError as error:
        db.session.rollback()
        return refused(PAGE, **_page(webhook, errors={error.field: str(error)}, typed=typed))
    return changed(f"Saved the webhook {webhook.name}.",
                   url_for("admin_webhooks.webhook", webhook_id=webhook.id))


@bp.post("/<int:webhook_id>/secret")
def rotate_secret(webhook_id):
    """A new signing secret, shown this once; the old one stops working."""
    webhook = _webhook(webhook_id)
    secret = service.rotate_secret(webhook, actor=current_user)
    return render_template(PAGE, **_page(webhook, secret=secret, notice=(
        "Made a new signing secret: the old one no longer signs deliveries.")))


@bp.post("/<int:webhook_id>/delete")
def delete(webhook_id):
    """Remove the webhook and its deliveries."""
    webhook = _webhook(webhook_id)
    name = webhook.name
    service.delete_webhook(webhook, actor=current_user)
    return changed(f"Removed the webhook {name}.", url_for("admin_webhooks.webhooks"))


@bp.post("/deliveries/<int:delivery_id>/again")
def send_again(delivery_id):
    """Send a failed delivery again."""
    delivery = db.session.get(WebhookDelivery, delivery_id) or abort(404)
    try:
        service.send_again(delivery, actor=current_user)
    except service.WebhookError as error:
        db.session.rollback()
        return refused(PAGE, **_page(delivery.webhook, errors={"delivery": str(error)}))
    return changed(f"Delivery {delivery.id} is queued to be sent again.",
                   url_for("admin_webhooks.webhook", webhook_id=delivery.webhook_id))
