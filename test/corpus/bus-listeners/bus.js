// Modelled on https://github.com/statsd/statsd/issues/339 (the config-change handler stacks up one more listener every time it runs)
'use strict';
// The process-wide event bus: the config watcher emits 'config-changed' here when settings.json changes.
const { EventEmitter } = require('events');

const bus = new EventEmitter();
bus.setMaxListeners(0);

module.exports = bus;
