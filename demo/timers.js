'use strict';
// Report export service: each request starts an export and gets back a job id, and a background poller checks
// the upstream export status every minute. The poller is meant to be cleared when the export is
// done or the client cancels, but a job that nobody asks about again is polled forever, so every
// request leaves a live setInterval holding its PollingJob.
const crypto = require('crypto');
const { serve } = require('./lib/serve');

const POLL_INTERVAL_MS = 60 * 1000;
const EXPORT_COLUMNS = ['order_id', 'customer_id', 'created_at', 'status', 'total_amount', 'currency', 'items', 'shipping_country'];

class PollingJob {
  constructor(req) {
    this.id = crypto.randomUUID();
    this.requestedBy = req.headers['x-request-id'] || null;
    this.query = req.url;
    this.params = Object.fromEntries(new URL(req.url, 'http://localhost').searchParams);
    this.columns = EXPORT_COLUMNS.map((name, i) => ({ name, label: name.replace(/_/g, ' '), position: i, width: 12 }));
    this.upstreamUrl = `https://reports.internal/exports?owner=${encodeURIComponent(this.requestedBy || 'anonymous')}&job=${this.id}`;
    this.createdAt = Date.now();
    this.attempts = 0;
    this.status = 'pending';
    this.history = [];
    this.timer = null;
  }

  cancel() {
    clearInterval(this.timer);
    this.status = 'cancelled';
  }
}

function poll(job) {
  job.attempts++;
  job.history.push({ at: Date.now(), status: job.status });
}

function startExport(req) {
  const job = new PollingJob(req);
  job.timer = setInterval(() => poll(job), POLL_INTERVAL_MS);
  return job;
}

serve((req, res) => {
  const job = startExport(req);
  res.writeHead(202, { 'content-type': 'application/json', location: `/exports/${job.id}` });
  res.end(JSON.stringify({ id: job.id, status: job.status }));
});
