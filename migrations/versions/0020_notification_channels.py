"""notification channels: notifications for any ticket event (keyed), in-app notifications,
and each person's channel choices

Revision ID: 0020_notification_channels
Revises: 0019_sla
Create Date: 2026-11-26 10:00:00

``notifications`` was one mail per customer reply; it becomes one mail per ticket event and
recipient, unique by ``(kind, key, recipient_id)`` (existing rows get ``reply-<reply_id>``),
with no reply for events that have none, a note (a handoff's), and the message itself for
rows ``kept`` for /admin/mail when no mail server is configured. ``in_app_notifications`` is
the bell; ``notification_preferences`` holds only the choices that differ from the default
(every channel on).
"""

import sqlalchemy as sa
from alembic import op

revision = '0020_notification_channels'
down_revision = '0019_sla'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('to_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
    op.execute("UPDATE notifications SET key = 'reply-' || CAST(reply_id AS VARCHAR(20))")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column('reply_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint('uq_notifications_kind_reply_id_recipient_id', type_='unique')
        batch_op.create_unique_constraint('uq_notifications_kind_key_recipient_id',
                                          ['kind', 'key', 'recipient_id'])

    op.create_table('in_app_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_in_app_notifications_actor_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_in_app_notifications_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_in_app_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_in_app_notifications')),
    sa.UniqueConstraint('kind', 'key', 'user_id', name='uq_in_app_notifications_kind_key_user_id')
    )
    with op.batch_alter_table('in_app_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_in_app_notifications_unread', ['user_id'], unique=False,
                              postgresql_where=sa.text('read_at IS NULL'),
                              sqlite_where=sa.text('read_at IS NULL'))
        batch_op.create_index('ix_in_app_notifications_user_id_id', ['user_id', 'id'],
                              unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.Column('in_app', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'event', name=op.f('pk_notification_preferences'))
    )


def downgrade():
    op.drop_table('notification_preferences')
    with op.batch_alter_table('in_app_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_in_app_notifications_user_id_id')
        batch_op.drop_index('ix_in_app_notifications_unread')
    op.drop_table('in_app_notifications')
    # Before this revision a notification was a customer reply's mail and nothing else; a
    # kept message was a skipped one.
    op.execute("DELETE FROM notifications WHERE kind <> 'customer_reply' OR reply_id IS NULL")
    op.execute("UPDATE notifications SET state = 'skipped' WHERE state = 'kept'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notifications_kind_key_recipient_id', type_='unique')
        batch_op.create_unique_constraint('uq_notifications_kind_reply_id_recipient_id',
                                          ['kind', 'reply_id', 'recipient_id'])
        batch_op.alter_column('reply_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('body')
        batch_op.drop_column('subject')
        batch_op.drop_column('to_email')
        batch_op.drop_column('note')
        batch_op.drop_column('key')
