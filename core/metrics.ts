import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * Every glimpser_* metric is declared here, once, on prom-client's default registry, so the runtime's
 * /metrics endpoint shows what nodes and core record no matter who loaded first.
 */
function counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
  const existing = register.getSingleMetric(name);
  return (existing as Counter<string> | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
  const existing = register.getSingleMetric(name);
  return (existing as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames });
}

function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
  const existing = register.getSingleMetric(name);
  return (existing as Histogram<string> | undefined) ?? new Histogram({ name, help, labelNames, buckets });
}

export const metrics = {
  framesTotal: counter('glimpser_frames_total', 'JPEG frames captured, per camera.', ['camera']),
  frameBytesTotal: counter('glimpser_frame_bytes_total', 'Bytes of JPEG frames captured, per camera.', ['camera']),
  framesRejectedTotal: counter('glimpser_frames_rejected_total', 'Frames dropped before delivery, per camera and reason.', ['camera', 'reason']),
  cameraOnline: gauge('glimpser_camera_online', '1 while the camera delivers frames, 0 while it is offline or connecting.', ['camera']),
  cameraFps: gauge(
    'glimpser_camera_fps',
    'Pictures per second the camera delivered over the last few seconds (decoded pictures where grey planes are made, else JPEG frames), per camera.',
    ['camera'],
  ),
  greyPlanesTotal: counter('glimpser_grey_planes_total', 'Grey planes for motion detection made from the capture decode, per camera.', ['camera']),
  cameraJpegDemand: gauge(
    'glimpser_camera_jpeg_demand',
    'Whether anything wants JPEG frames from the camera now (1) or only grey planes are made (0), per camera.',
    ['camera'],
  ),
  captureRestartsTotal: counter('glimpser_capture_restarts_total', 'Capture process restarts after an exit or a stall, per camera.', ['camera']),
  captureErrorsTotal: counter('glimpser_capture_errors_total', 'Capture errors (decode errors, failed starts, exits), per camera and kind.', [
    'camera',
    'kind',
  ]),
  mqttClients: gauge('glimpser_mqtt_clients', 'MQTT clients connected to the embedded broker.'),
  mqttPublishedTotal: counter('glimpser_mqtt_published_total', 'Messages published on the bus, by topic kind.', ['kind']),
  mqttAuthFailuresTotal: counter('glimpser_mqtt_auth_failures_total', 'MQTT connections or publishes refused by the broker, by reason.', ['reason']),
  httpRequestsTotal: counter('glimpser_http_requests_total', 'HTTP requests served, by method, route group and status class.', ['method', 'route', 'status']),
  httpRequestSeconds: histogram('glimpser_http_request_duration_seconds', 'HTTP request latency by route group.', ['route'], [0.005, 0.025, 0.1, 0.5, 2, 10]),
  authFailuresTotal: counter('glimpser_auth_failures_total', 'Failed sign-ins on the HTTP API and editor, by method.', ['method']),
  archiveBytes: gauge('glimpser_archive_bytes', 'Bytes of archived frames on disk, kept ones included, per camera.', ['camera']),
  archiveFrames: gauge('glimpser_archive_frames', 'Archived frames on disk, kept ones included, per camera.', ['camera']),
  archiveDeletionsTotal: counter('glimpser_archive_deletions_total', 'Archived frames deleted by retention, per camera and rule (age, count, size).', [
    'camera',
    'reason',
  ]),
  streamClients: gauge('glimpser_stream_clients', 'Live-view (MJPEG) clients connected, per camera.', ['camera']),
  liveClients: gauge('glimpser_live_clients', 'Web app clients connected to the live updates (GET /api/live).'),
  liveMessagesTotal: counter('glimpser_live_messages_total', 'Live update messages sent to web app clients, by kind (event, alert, delivery, camera).', [
    'kind',
  ]),
  streamFramesDroppedTotal: counter('glimpser_stream_frames_dropped_total', 'Live-view frames skipped because a client could not keep up, per camera.', [
    'camera',
  ]),
  browserSessions: gauge('glimpser_browser_sessions', 'Headless browsers in the website capture pool, by state.', ['state']),
  browserRecyclesTotal: counter('glimpser_browser_recycles_total', 'Headless browsers replaced by a fresh one, by reason.', ['reason']),
  motionEventsTotal: counter('glimpser_motion_events_total', 'Motion events started, per camera.', ['camera']),
  motionActive: gauge('glimpser_motion_active', '1 while a motion event lasts, per camera.', ['camera']),
  motionRecalibrationsTotal: counter(
    'glimpser_motion_recalibrations_total',
    'Times motion detection started learning the scene again, per camera and reason (size: the picture size changed; lighting: most of the picture changed at once).',
    ['camera', 'reason'],
  ),
  tamperEventsTotal: counter('glimpser_tamper_events_total', 'Tamper events started, per camera and kind (covered, moved, defocused).', ['camera', 'kind']),
  tamperActive: gauge('glimpser_tamper_active', '1 while a tamper event lasts, per camera and kind.', ['camera', 'kind']),
  sceneChangesTotal: counter('glimpser_scene_changes_total', 'Snapshots that differed from the last kept one, per camera.', ['camera']),
  eventsTotal: counter('glimpser_events_total', 'Events stored in the event journal, per camera and type.', ['camera', 'type']),
  eventJournalEvents: gauge('glimpser_event_journal_events', 'Events in the event journal, kept ones included.'),
  eventJournalBytes: gauge('glimpser_event_journal_bytes', 'Bytes of the event journal on disk: database, write-ahead log and snapshots.'),
  eventDeletionsTotal: counter('glimpser_event_deletions_total', 'Events deleted by journal retention, by rule (age, size).', ['reason']),
  eventPublishFailuresTotal: counter(
    'glimpser_event_publish_failures_total',
    'Event changes that could not be published on the bus, by reason (error, overflow).',
    ['reason'],
  ),
  eventsInterruptedTotal: counter(
    'glimpser_events_interrupted_total',
    'Events left open by a crash or kill and closed at the next start, per camera and type.',
    ['camera', 'type'],
  ),
  aiRequestsTotal: counter(
    'glimpser_ai_requests_total',
    'Pictures given to an AI provider to describe, by provider and outcome (ok, cached, refused, error, rate_limited, budget).',
    ['provider', 'outcome'],
  ),
  aiTokensTotal: counter('glimpser_ai_tokens_total', 'Tokens AI providers reported using, by provider and kind (prompt, completion).', ['provider', 'kind']),
  aiCostTotal: counter('glimpser_ai_cost_total', 'Estimated AI spend from the configured prices per million tokens, in their currency, by provider.', [
    'provider',
  ]),
  aiRequestSeconds: histogram(
    'glimpser_ai_request_duration_seconds',
    'Time from sending a picture to an AI provider to its reply, by provider.',
    ['provider'],
    [0.25, 0.5, 1, 2, 5, 10, 30, 60],
  ),
  ruleDecisionsTotal: counter(
    'glimpser_rule_decisions_total',
    'Rule gate decisions, by deciding rule ("(default)" when none matched) and outcome (pass, block).',
    ['rule', 'outcome'],
  ),
  alertsTotal: counter('glimpser_alerts_total', 'CAP alerts stored in the outbox, by message type (Alert, Update, Cancel).', ['msg_type']),
  alertDeliveriesTotal: counter(
    'glimpser_alert_deliveries_total',
    'Alert delivery attempts, by channel (email, sms, webhook, push) and outcome (delivered, retry, dead).',
    ['channel', 'outcome'],
  ),
  alertDeliverySeconds: histogram(
    'glimpser_alert_delivery_latency_seconds',
    'Time from an alert being sent (CAP sent) to a delivery of it succeeding, by channel.',
    ['channel'],
    [0.05, 0.25, 1, 5, 30, 120, 600, 3600],
  ),
  alertOutboxDeliveries: gauge('glimpser_alert_outbox_deliveries', 'Deliveries in the alert outbox, by status (pending, dead).', ['status']),
  alertBreakerState: gauge('glimpser_alert_breaker_state', 'Circuit breaker per delivery target host: 0 closed, 1 half-open, 2 open.', ['host']),
  alertBreakerTransitionsTotal: counter(
    'glimpser_alert_breaker_transitions_total',
    'Circuit breaker state changes per delivery target host, by the state entered (open, half_open, closed).',
    ['host', 'state'],
  ),
  alertSuspendedCameras: gauge('glimpser_alert_suspended_cameras', 'Cameras whose notifications are suspended now (the API or MQTT notifications/suspend).'),
  alertDeliveriesSkippedTotal: counter(
    'glimpser_alert_deliveries_skipped_total',
    "Deliveries not enqueued, by channel and reason (suspended: the camera's notifications were suspended); the alert is still stored.",
    ['channel', 'reason'],
  ),
  apiRequestsLimitedTotal: counter('glimpser_api_requests_limited_total', 'API requests refused (429) by the request limits, by scope (key, address).', [
    'scope',
  ]),
  nodeMessagesTotal: counter('glimpser_node_messages_total', 'Messages Glimpser nodes took in, by node type.', ['type']),
  nodeErrorsTotal: counter('glimpser_node_errors_total', 'Messages Glimpser nodes failed on (done(err)), by node type.', ['type']),
  ready: gauge('glimpser_ready', '1 when every start phase has completed and the runtime serves traffic.'),
  startPhaseSeconds: gauge('glimpser_start_phase_seconds', 'Seconds each start phase took on the last start.', ['phase']),
  signInRefusalsTotal: counter(
    'glimpser_sign_in_refusals_total',
    'Sign-in attempts refused by the limiter before any credential check, by channel (http, editor, mqtt) and limit (user, address, token).',
    ['channel', 'scope'],
  ),
  websiteRequestsRefusedTotal: counter(
    'glimpser_website_requests_refused_total',
    'Requests of website-capture browsers refused by the URL policy proxy, by reason (loopback, link-local, metadata, unspecified, scheme, idle).',
    ['reason'],
  ),
  mqttConnectionsRefusedTotal: counter(
    'glimpser_mqtt_connections_refused_total',
    'MQTT connections the embedded broker refused or cut off before aedes read them, by reason (per_address, unauthenticated, packet_too_large, malformed, not_connect_first, protocol_name, protocol_level, client_id).',
    ['reason'],
  ),
};

/** Scheduled jobs (core/jobs): what ran, how long it took, and what did not run. */
export const jobMetrics = {
  jobRunsTotal: counter('glimpser_job_runs_total', 'Job runs recorded, by job kind and outcome (ok, failed, skipped, missed).', ['kind', 'outcome']),
  jobRunSeconds: histogram(
    'glimpser_job_run_seconds',
    'How long job runs that did work (ok or failed) took, by job kind.',
    ['kind'],
    [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  ),
  jobRunsSkippedTotal: counter(
    'glimpser_job_runs_skipped_total',
    'Scheduled or manual runs skipped because the previous run of the job was still going, by job kind.',
    ['kind'],
  ),
  jobRunsMissedTotal: counter('glimpser_job_runs_missed_total', 'Scheduled runs missed while Glimpser was not running (recorded on start), by job kind.', [
    'kind',
  ]),
};
