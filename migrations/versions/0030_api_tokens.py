"""api tokens: personal tokens for the JSON API, kept as their SHA-256

Revision ID: 0030_api_tokens
Revises: 0029_mail_intake
Create Date: 2026-11-24 12:30:00

One new table, ``api_tokens`` (helpdesk/models/api_token.py): who, a name, the token's hash
(unique: every request looks a token up by it), when it was made, last used and revoked.
Nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = '0030_api_tokens'
down_revision = '0029_mail_intake'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    )
    op.create_index('ix_api_tokens_token_hash', 'api_tokens', ['token_hash'], unique=True)
    op.create_index('ix_api_tokens_user_id_revoked_at', 'api_tokens',
                    ['user_id', 'revoked_at'], unique=False)


def downgrade():
    op.drop_index('ix_api_tokens_user_id_revoked_at', table_name='api_tokens')
    op.drop_index('ix_api_tokens_token_hash', table_name='api_tokens')
    op.drop_table('api_tokens')
