# Sourced by drills-start on the datastore node (see roles/common/drills-start).
# Nothing here is configurable at run time: the engine is baked into the image
# and the credentials are the training-only defaults. The file is written so a
# player (and drills-health) can read the connection settings.
env_fixed DB_ENGINE "$(cat /etc/drills/datastore.engine)"
if [ "$DB_ENGINE" = postgres ]; then env_fixed DB_PORT 5432; else env_fixed DB_PORT 3306; fi
env_fixed DB_NAME drills
env_fixed DB_USER drills
env_fixed DB_PASSWORD drills

# /run may be a fresh tmpfs: recreate the socket directories.
if [ "$DB_ENGINE" = postgres ]; then
  install -d -o postgres -g postgres -m 2775 /run/postgresql
else
  install -d -o mysql -g mysql -m 0755 /run/mysqld
fi
