"""outgoing account mail: password reset and set-password links, sent by a worker

Revision ID: 0016_outgoing_mail
Revises: 0015_assignee_tallies
Create Date: 2026-11-25 10:00:00

An outbox like ``notifications``, for mail about an account rather than a ticket. Without a
mail server the message is kept in the row (``kept``) for /admin/mail instead of dropped.
"""

import sqlalchemy as sa
from alembic import op

revision = '0016_outgoing_mail'
down_revision = '0015_assignee_tallies'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('to_email', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outgoing_mail_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mail'))
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mail_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mail_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_state'))
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_recipient_id'))
    op.drop_table('outgoing_mail')
