# Sourced by drills-start on the proxy node (see roles/common/drills-start).
env_default BACKEND_HOST ""   # empty: no backend yet, /api/ answers 502
env_default BACKEND_PORT 3000
# The origin the front end calls the API on; empty: /api/ on its own origin.
# Absent from both the environment and the env file: not configured yet.
if _from_file API_BASE >/dev/null || [ -n "${API_BASE+x}" ]; then
  env_default API_BASE ""
else
  echo "# API_BASE is not set: the front end has no API address." >>"$NEW_ENV"
fi
env_default CLIENT_MAX_BODY_SIZE 20m   # largest request body nginx accepts (nginx size: 20m, 512k; 0 = no limit)
