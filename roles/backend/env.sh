# Sourced by drills-start on the backend node (see roles/common/drills-start).
env_default DB_ENGINE postgres
case "$DB_ENGINE" in
  postgres) default_db_port=5432 ;;
  mysql)    default_db_port=3306 ;;
  *) drills_start_die "DB_ENGINE must be postgres or mysql, got '$DB_ENGINE'" ;;
esac
env_default DB_HOST ""            # empty: no database yet (the API runs and says so)
env_default DB_PORT "$default_db_port"
env_default DB_USER drills
env_default DB_PASSWORD drills        # training-only default credentials
env_default DB_NAME drills
env_default PORT 3000
env_default UPLOAD_DIR /var/lib/drills/uploads
env_default UPLOAD_TMP_DIR "$UPLOAD_DIR/.partial"   # same filesystem: uploads are renamed into place
env_default LOG_FILE /var/log/drills/backend.log
env_default CORS_ORIGIN ""            # empty: no CORS headers
env_default MIGRATIONS_DIR "/opt/drills/migrations/$DB_ENGINE"

# Create missing directories for the app user (existing ones are left as
# they are, so a mounted volume keeps its own ownership).
for d in "$UPLOAD_DIR" "$UPLOAD_TMP_DIR" "$(dirname "$LOG_FILE")"; do
  [ -d "$d" ] || install -d -o app -g app -m 0755 "$d"
done
