"""photos and uploads: evidence attached to corrective actions

Revision ID: e5e5f5a7b004
Revises: d4d4e4f8a003
Create Date: 2026-11-24 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5e5f5a7b004'
down_revision = 'd4d4e4f8a003'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('photos', 'uploads'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('action_id', sa.Uuid(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_action_id'), ['action_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_action_id_corrective_actions'), 'corrective_actions',
                                        ['action_id'], ['id'])


def downgrade():
    for table in ('uploads', 'photos'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_action_id_corrective_actions'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_action_id'))
            batch_op.drop_column('action_id')
