/* GET /metrics in the Prometheus text format (version 0.0.4). */
#define _GNU_SOURCE
#include "sse.h"

#include <stdio.h>

/* Time to first chunk, seconds: the headline number, so fine below 10 s. */
const double ttfc_bounds[] = {0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120};
const int ttfc_nbounds = (int)(sizeof ttfc_bounds / sizeof ttfc_bounds[0]);

/* Status codes counted, in the order of srv.responses. */
static const int counted[] = {200, 204, 206, 304, 400, 403, 404, 405, 408, 416, 431, 500, 503, 505};
#define NCOUNTED (int)(sizeof counted / sizeof counted[0])

void metrics_ttfc(double seconds)
{
	srv.ttfc_count++;
	srv.ttfc_sum += seconds;
	for (int i = 0; i < ttfc_nbounds; i++)
		if (seconds <= ttfc_bounds[i])
			srv.ttfc_buckets[i]++;
}

void metrics_response(int status)
{
	for (int i = 0; i < NCOUNTED && i < (int)(sizeof srv.responses / sizeof srv.responses[0]); i++)
		if (counted[i] == status)
			srv.responses[i]++;
}

static void metric(struct buf *b, const char *name, const char *type, const char *help, double v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void metrics_render(struct buf *b)
{
	long running = 0;
	for (struct stream *s = srv.streams; s; s = s->next)
		if (s->kind == STREAM_SESSION && !s->ended && !s->readonly)
			running++;
	metric(b, "playcall_sessions_running", "gauge", "Sessions being made now (pipelines, or open sessions of the input).", (double)running);
	metric(b, "playcall_sessions_total", "counter", "Sessions started since the server started.", (double)srv.sessions_total);
	metric(b, "playcall_clients", "gauge", "Event-stream clients connected.", (double)srv.nsse);
	metric(b, "playcall_connections", "gauge", "HTTP connections open.", (double)srv.nclients);
	metric(b, "playcall_chunks_total", "counter", "chunk_ready records streamed.", (double)srv.chunks_total);
	metric(b, "playcall_errors_total", "counter", "error records streamed.", (double)srv.errors_total);
	metric(b, "playcall_http_requests_total", "counter", "HTTP requests read.", (double)srv.requests_total);
	buf_puts(b, "# HELP playcall_http_responses_total HTTP responses by status.\n"
		    "# TYPE playcall_http_responses_total counter\n");
	for (int i = 0; i < NCOUNTED; i++)
		buf_printf(b, "playcall_http_responses_total{code=\"%d\"} %ld\n", counted[i], srv.responses[i]);
	buf_puts(b, "# HELP playcall_ttfc_seconds Time from a session's start to its first chunk_ready.\n"
		    "# TYPE playcall_ttfc_seconds histogram\n");
	for (int i = 0; i < ttfc_nbounds; i++)
		buf_printf(b, "playcall_ttfc_seconds_bucket{le=\"%g\"} %ld\n", ttfc_bounds[i], srv.ttfc_buckets[i]);
	buf_printf(b, "playcall_ttfc_seconds_bucket{le=\"+Inf\"} %ld\n", srv.ttfc_count);
	buf_printf(b, "playcall_ttfc_seconds_sum %.6f\nplaycall_ttfc_seconds_count %ld\n", srv.ttfc_sum, srv.ttfc_count);
}
