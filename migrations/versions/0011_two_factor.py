"""two-factor login: each user's confirmed TOTP secret and their recovery codes

deux_facteurs holds one row per user who confirmed the enrolment with a first code (the secret,
the date, the last accepted 30-second step, so that a code cannot be replayed); code_secours
holds the ten single-use recovery codes, as HMACs only. Both go with their user (CASCADE).

Revision ID: 13b0twofactor
Revises: 13a0sessions
Create Date: 2026-12-01 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13b0twofactor'
down_revision = '13a0sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'deux_facteurs',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('active_le', sa.DateTime(), nullable=False),
        sa.Column('dernier_pas', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='deux_facteurs_user_id_fkey',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'code_secours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='code_secours_user_id_fkey',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('code_secours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_secours_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('code_secours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_secours_user_id'))
    op.drop_table('code_secours')
    op.drop_table('deux_facteurs')
