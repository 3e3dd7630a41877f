# Sourced by drills-start on the proxy node (see roles/common/drills-start).
env_required BACKEND_HOST
env_default BACKEND_PORT 3000
env_default API_BASE ""      # empty: the front end calls /api/ on its own origin
env_default CLIENT_MAX_BODY_SIZE 20m   # largest request body nginx accepts (nginx size: 20m, 512k; 0 = no limit)
