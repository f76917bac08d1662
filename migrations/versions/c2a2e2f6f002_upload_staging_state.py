"""uploads: the staging state (staged offset and chunk starts), so the media store need not be asked

Revision ID: c2a2e2f6f002
Revises: 634b6d807f5b
Create Date: 2026-11-24 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c2a2e2f6f002'
down_revision = '634b6d807f5b'
branch_labels = None
depends_on = None


def upgrade():
    # Where a lookup in the media store costs a request (S3), the row records what is staged after each chunk
    # (services/uploads.py). Uploads in progress start at 0 / []: a chunk at another offset than the row's is
    # checked against the store itself, and the row catches up with what it finds.
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staged_offset', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('staged_parts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('staged_parts')
        batch_op.drop_column('staged_offset')
