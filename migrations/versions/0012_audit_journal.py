"""audit journal: address, browser, actor's name, field changes, dossier/person links,
hash chain, de-identification flag; append-only on PostgreSQL

The rows written before this migration are chained in id order (their hash computed with
the same function `flask clea audit-verify` uses). On PostgreSQL a trigger refuses UPDATE,
DELETE and TRUNCATE on audit_log, except an UPDATE of the personal text (detail, changes,
user_name, ip, user_agent, desidentifie) inside a transaction that set
`clea.audit_desidentification` to 'on' (services.audit.desidentifier).

Revision ID: 13c0auditjournal
Revises: 13b0twofactor
Create Date: 2026-12-10 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '13c0auditjournal'
down_revision = '13b0twofactor'
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column('user_name', sa.String(length=255), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('changes', sa.Text(), nullable=True),
    sa.Column('candidature_id', sa.Integer(), nullable=True),
    sa.Column('candidat_id', sa.Integer(), nullable=True),
    sa.Column('contenu_sha256', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('desidentifie', sa.Boolean(), server_default='0', nullable=False),
)
INDEXES = (
    ('ix_audit_log_objet', ['object_type', 'object_id']),
    ('ix_audit_log_user_id', ['user_id']),
    ('ix_audit_log_candidature_id', ['candidature_id']),
    ('ix_audit_log_candidat_id', ['candidat_id']),
)

TRIGGER = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('clea.audit_desidentification', true), '') = 'on'
       AND NEW.id = OLD.id AND NEW.created_on = OLD.created_on
       AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.action = OLD.action
       AND NEW.object_type = OLD.object_type
       AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
       AND NEW.candidature_id IS NOT DISTINCT FROM OLD.candidature_id
       AND NEW.candidat_id IS NOT DISTINCT FROM OLD.candidat_id
       AND NEW.contenu_sha256 IS NOT DISTINCT FROM OLD.contenu_sha256
       AND NEW.prev_hash IS NOT DISTINCT FROM OLD.prev_hash
       AND NEW.hash IS NOT DISTINCT FROM OLD.hash THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'Le journal d''audit est en ajout seul : % refusé.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE OR REPLACE FUNCTION audit_log_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Le journal d''audit est en ajout seul : TRUNCATE refusé.'
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();
"""


def _chain_existing_rows():
    from app.models.audit import GENESIS, content_digest, row_hash

    bind = op.get_bind()
    table = sa.table('audit_log', sa.column('id'), sa.column('created_on', sa.DateTime()),
                     sa.column('user_id'), sa.column('action'), sa.column('object_type'),
                     sa.column('object_id'), sa.column('detail'), sa.column('contenu_sha256'),
                     sa.column('prev_hash'), sa.column('hash'))
    previous = GENESIS
    rows = bind.execute(sa.select(table.c.id, table.c.created_on, table.c.user_id,
                                  table.c.action, table.c.object_type, table.c.object_id,
                                  table.c.detail).order_by(table.c.id)).all()
    for row in rows:
        digest = content_digest(row.detail, None, None, None, None)
        current = row_hash(previous, row.created_on, row.user_id, row.action, row.object_type,
                           row.object_id, None, None, digest)
        bind.execute(table.update().where(table.c.id == row.id).values(
            contenu_sha256=digest, prev_hash=previous, hash=current))
        previous = current


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(column.copy())
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)
    _chain_existing_rows()
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_log_no_truncate()")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for name, _columns in INDEXES:
            batch_op.drop_index(name)
        for column in reversed(COLUMNS):
            batch_op.drop_column(column.name)
