// Replaced on the proxy node from API_BASE (see roles/proxy/nginx-run).
// Empty apiBase: the API is on the same origin, under /api/.
window.DRILLS_CONFIG = {"apiBase": ""};
