/** Reported in `hello` and at registration; shown in GET /api/v1/connectors. */
export const CONNECTOR_VERSION = '0.1.0';
