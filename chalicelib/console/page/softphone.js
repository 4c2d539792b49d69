/* The agent desk's softphone: one interface over two implementations, chosen by the voice-token
 * answer (POST /agents/{id}/voice-token): `edge: "twilio"` drives the Twilio Voice JavaScript SDK
 * (`Twilio.Device`, bundled as /console/static/voice-sdk.min.js), `edge: "emulator"` the local
 * carrier emulator's softphone API at `emulator_url` + /_emulator/clients/{identity}, which plays
 * the device's part on a laptop (no media: the tests stop at the SDK's boundary).
 *
 *   var phone = Softphone.create({token, identity, edge, emulator_url});
 *   phone.on('incoming', function (call) { ... });  // call: {sid, from, to, params}
 *   phone.register();
 *
 * Events: registered, incoming(call), accepted(call), disconnected(call), cancel({call, reason}),
 * error({code, message}), offline, online, token-expiring. `cancel` ends a ring this tab did not
 * take: reason 'answered-elsewhere' (another tab of the agent took it), 'rejected' (this tab's
 * reject()) or 'ended' (the caller left, it rang out, or another tab declined it).
 * Methods: register(), answer(), reject(), hangup(), destroy() return promises; answer() rejects
 * with {code: 'answered-elsewhere' | 'nothing-ringing' | 'offline'} when the call is not this
 * tab's to take; mute(bool), updateToken(token) (the emulator ignores both: no media, no
 * token); status() -> {edge, online, ringing: call | null, call: call | null, muted}.
 * Plain script, no build: it defines window.Softphone. */
(function (global) {
  'use strict';

  function Emitter() { this._handlers = {}; }
  Emitter.prototype.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };
  Emitter.prototype.off = function (name, fn) {
    this._handlers[name] = (this._handlers[name] || []).filter(function (h) { return h !== fn; });
    return this;
  };
  Emitter.prototype.emit = function (name, value) {
    (this._handlers[name] || []).slice().forEach(function (fn) {
      try { fn(value); } catch (e) { setTimeout(function () { throw e; }); }
    });
  };
  function inherit(Child) {
    Child.prototype = Object.create(Emitter.prototype);
    Child.prototype.constructor = Child;
  }
  function failure(code, message) {
    var e = new Error(message || code);
    e.code = code;
    return e;
  }
  function sleep(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  /* Tabs of one agent tell each other which call they took (a Twilio device only hears 'cancel'
   * when another device answers). */
  function tabs(identity) {
    return global.BroadcastChannel ? new global.BroadcastChannel('softphone:' + identity) : null;
  }

  // ---- the local carrier emulator ------------------------------------------------------------

  function EmulatorPhone(options) {
    Emitter.call(this);
    this.identity = options.identity;
    this.base = options.emulator_url.replace(/\/+$/, '') + '/_emulator/clients/' +
      encodeURIComponent(options.identity);
    this.device = 'tab-' + Math.random().toString(36).slice(2, 10);
    this.pollSeconds = options.poll_seconds || 25;  // the emulator answers a long poll by then
    this.retryMs = options.retry_ms || 2000;  // between attempts while the emulator is away
    this.version = null;
    this.ringing = null;  // the call ringing here: {sid, from, to, params}
    this.call = null;  // the call this tab answered
    this.answering = null;  // sid of an answer under way (its outcome is answer()'s to tell)
    this.elsewhere = null;  // sid of the last call another tab took
    this.muted = false;
    this.offline = false;
    this.stopped = false;
    this.polling = null;
    var self = this;
    this._wentOffline = function () { if (self.polling) self.polling.abort(); };
    global.addEventListener('offline', this._wentOffline);
  }
  inherit(EmulatorPhone);

  EmulatorPhone.prototype._fetch = function (method, path, signal) {
    return fetch(this.base + path, {method: method, signal: signal, keepalive: method === 'DELETE'})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      });
  };

  EmulatorPhone.prototype.register = function () {
    var self = this;
    this.stopped = false;
    return this._fetch('POST', '?device=' + this.device).then(function (answer) {
      self._reachable();
      self._apply(answer.body);
      self.emit('registered');
      if (!self._loop) self._loop = self._poll();
      return answer.body;
    }, function (error) {
      self._unreachable();
      if (!self._loop) self._loop = self._poll();  // keep trying: registers once it is back
      throw failure('offline', String(error));
    });
  };

  /* Long-poll the identity's state until destroyed; while the emulator is unreachable, try
   * again every retry_ms (one 'offline', then one 'online' when it answers again). */
  EmulatorPhone.prototype._poll = async function () {
    while (!this.stopped) {
      this.polling = new AbortController();
      var query = '?wait=' + this.pollSeconds +
        (this.version === null ? '' : '&version=' + this.version);
      try {
        var answer = await this._fetch('GET', query, this.polling.signal);
        this._reachable();
        if (!answer.body.online && !this.stopped) {  // the emulator restarted or was reset
          answer = await this._fetch('POST', '?device=' + this.device);
          this.emit('registered');
        }
        this._apply(answer.body);
      } catch (error) {
        if (this.stopped) return;
        this._unreachable();
        await sleep(this.retryMs);
      }
    }
  };

  EmulatorPhone.prototype._reachable = function () {
    if (this.offline) { this.offline = false; this.emit('online'); }
  };
  EmulatorPhone.prototype._unreachable = function () {
    if (!this.offline) { this.offline = true; this.emit('offline'); }
  };

  function info(leg) {
    return {sid: leg.call_sid, from: leg.from, to: leg.to,
            params: {CallSid: leg.call_sid, ParentCallSid: leg.parent_call_sid, From: leg.from, To: leg.to}};
  }

  /* The emulator's state of the identity: {version, online, incoming, active}. */
  EmulatorPhone.prototype._apply = function (state) {
    if (typeof state.version === 'number') this.version = state.version;
    var incoming = state.incoming, active = state.active;
    var ring = this.ringing;
    if (ring && this.answering !== ring.sid && !(incoming && incoming.call_sid === ring.sid)) {
      this.ringing = null;
      var elsewhere = active && active.call_sid === ring.sid;
      if (elsewhere) this.elsewhere = ring.sid;
      this.emit('cancel', {call: ring, reason: elsewhere ? 'answered-elsewhere' : 'ended'});
    }
    if (incoming && !this.ringing && !this.call && this.answering !== incoming.call_sid) {
      this.ringing = info(incoming);
      this.emit('incoming', this.ringing);
    }
    if (this.call && !(active && active.call_sid === this.call.sid)) this._ended();
  };

  EmulatorPhone.prototype._ended = function () {
    var call = this.call;
    this.call = null;
    this.muted = false;
    if (call) this.emit('disconnected', call);
  };

  EmulatorPhone.prototype.answer = function () {
    var self = this, ring = this.ringing;
    if (!ring) {
      return Promise.reject(this.elsewhere ? failure('answered-elsewhere', 'answered in another tab')
                                           : failure('nothing-ringing', 'nothing is ringing'));
    }
    this.answering = ring.sid;
    return this._fetch('POST', '/answer').then(function (answer) {
      self.answering = null;
      self.ringing = null;
      if (answer.status === 200) {
        self.call = ring;
        self.emit('accepted', ring);
        self._apply(answer.body);
        return ring;
      }
      var active = answer.body.active;
      var reason = active && active.call_sid === ring.sid ? 'answered-elsewhere' : 'ended';
      if (active && active.call_sid === ring.sid) self.elsewhere = ring.sid;
      self.emit('cancel', {call: ring, reason: reason});
      self._apply(answer.body);
      throw failure(reason === 'ended' ? 'nothing-ringing' : reason, answer.body.error);
    }, function (error) {
      self.answering = null;
      self.emit('error', {code: 'offline', message: String(error)});
      throw failure('offline', String(error));
    });
  };

  EmulatorPhone.prototype.reject = function () {
    var self = this, ring = this.ringing;
    if (!ring) return Promise.resolve(null);
    this.ringing = null;
    return this._fetch('POST', '/reject').then(function (answer) {
      self.emit('cancel', {call: ring, reason: 'rejected'});
      self._apply(answer.body);
      return ring;
    });
  };

  EmulatorPhone.prototype.hangup = function () {
    var self = this;
    if (!this.call) return this.reject();
    return this._fetch('POST', '/hangup').then(function (answer) {
      self._ended();
      self._apply(answer.body);
    });
  };

  EmulatorPhone.prototype.mute = function (on) { this.muted = !!on; };  // no media to silence
  EmulatorPhone.prototype.status = function () {
    return {edge: 'emulator', online: !this.offline, ringing: this.ringing, call: this.call,
            muted: this.muted};
  };
  EmulatorPhone.prototype.updateToken = function () {};  // the emulator asks for no token

  EmulatorPhone.prototype.destroy = function () {
    this.stopped = true;
    global.removeEventListener('offline', this._wentOffline);
    if (this.polling) this.polling.abort();
    this._loop = null;
    return this._fetch('DELETE', '?device=' + this.device).catch(function () { return null; });
  };

  // ---- Twilio's Voice SDK --------------------------------------------------------------------

  /* The device's sounds, made here: by default the SDK fetches them from Twilio's CDN, and the
   * consoles load nothing from a CDN. Tones as on North American lines (ring 440+480 Hz, 2 s on
   * 4 s off; DTMF pairs), as 8 kHz 8-bit WAV data URLs. */
  var DTMF = {'1': [697, 1209], '2': [697, 1336], '3': [697, 1477], '4': [770, 1209],
              '5': [770, 1336], '6': [770, 1477], '7': [852, 1209], '8': [852, 1336],
              '9': [852, 1477], 's': [941, 1209], '0': [941, 1336], 'h': [941, 1477]};
  function tone(freqs, onSeconds, offSeconds) {
    var rate = 8000, on = Math.round(rate * onSeconds), n = on + Math.round(rate * (offSeconds || 0));
    var bytes = new Uint8Array(44 + n), view = new DataView(bytes.buffer);
    function text(at, s) { for (var i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i); }
    text(0, 'RIFF'); view.setUint32(4, 36 + n, true); text(8, 'WAVEfmt ');
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, rate, true); view.setUint16(32, 1, true);
    view.setUint16(34, 8, true); text(36, 'data'); view.setUint32(40, n, true);
    for (var i = 0; i < on; i++) {
      var v = 0;
      for (var f = 0; f < freqs.length; f++) v += Math.sin(2 * Math.PI * freqs[f] * i / rate);
      bytes[44 + i] = 128 + Math.round(40 * v / freqs.length);
    }
    for (var j = on; j < n; j++) bytes[44 + j] = 128;
    var binary = '';
    for (var k = 0; k < bytes.length; k += 8192) {
      binary += String.fromCharCode.apply(null, bytes.subarray(k, k + 8192));
    }
    return 'data:audio/wav;base64,' + global.btoa(binary);
  }
  var madeSounds = null;
  function sounds() {
    if (!madeSounds) {
      madeSounds = {incoming: tone([440, 480], 2, 4), outgoing: tone([440, 480], 0.3),
                    disconnect: tone([480, 620], 0.5)};
      Object.keys(DTMF).forEach(function (key) { madeSounds['dtmf' + key] = tone(DTMF[key], 0.1); });
    }
    return madeSounds;
  }

  function TwilioPhone(options) {
    Emitter.call(this);
    if (!global.Twilio || !global.Twilio.Device) {
      throw failure('no-sdk', 'the Twilio Voice SDK is not loaded (/console/static/voice-sdk.min.js)');
    }
    var self = this;
    this.identity = options.identity;
    this.device = new global.Twilio.Device(options.token, {
      closeProtection: true, sounds: Object.assign({}, sounds(), options.sounds || {})});
    this.ringing = null;
    this.call = null;
    this.elsewhere = null;  // a sid another tab says it answered
    this.offline = false;
    this.channel = tabs(options.identity);
    if (this.channel) {
      this.channel.onmessage = function (event) {
        if (event.data && event.data.answered) self.elsewhere = event.data.answered;
      };
    }
    this.device.on('registered', function () { self._reachable(); self.emit('registered'); });
    this.device.on('unregistered', function () { if (!self.stopped) self._unreachable(); });
    this.device.on('error', function (error) {
      self.emit('error', {code: error && error.code, message: error && error.message});
    });
    this.device.on('tokenWillExpire', function () { self.emit('token-expiring'); });
    this.device.on('incoming', function (call) { self._incoming(call); });
    this._online = function () { self._reachable(); };
    this._offline = function () { self._unreachable(); };
    global.addEventListener('online', this._online);
    global.addEventListener('offline', this._offline);
  }
  inherit(TwilioPhone);
  TwilioPhone.prototype._reachable = EmulatorPhone.prototype._reachable;
  TwilioPhone.prototype._unreachable = EmulatorPhone.prototype._unreachable;

  TwilioPhone.prototype._incoming = function (sdkCall) {
    var self = this, p = sdkCall.parameters || {};
    var params = {};
    Object.keys(p).forEach(function (k) { params[k] = p[k]; });
    (sdkCall.customParameters || new Map()).forEach(function (v, k) { params[k] = v; });
    var call = {sid: p.CallSid, from: p.From, to: p.To, params: params};
    this.ringing = {call: call, sdk: sdkCall};
    sdkCall.on('accept', function () {
      self.ringing = null;
      self.call = {call: call, sdk: sdkCall};
      self.emit('accepted', call);
    });
    sdkCall.on('cancel', function () {
      self.ringing = null;
      self.emit('cancel', {call: call, reason: self.elsewhere === call.sid ? 'answered-elsewhere' : 'ended'});
    });
    sdkCall.on('disconnect', function () {
      if (self.call && self.call.sdk === sdkCall) { self.call = null; self.emit('disconnected', call); }
    });
    sdkCall.on('error', function (error) {
      self.emit('error', {code: error && error.code, message: error && error.message});
    });
    this.emit('incoming', call);
  };

  TwilioPhone.prototype.register = function () {
    this.stopped = false;
    return this.device.register();
  };
  TwilioPhone.prototype.answer = function () {
    if (!this.ringing) {
      return Promise.reject(failure(this.elsewhere ? 'answered-elsewhere' : 'nothing-ringing'));
    }
    var call = this.ringing.call;
    // told before accepting: the other tabs' 'cancel' from Twilio comes after a round trip
    if (this.channel) this.channel.postMessage({answered: call.sid});
    this.ringing.sdk.accept();
    return Promise.resolve(call);
  };
  TwilioPhone.prototype.reject = function () {
    if (this.ringing) { var ring = this.ringing; this.ringing = null; ring.sdk.reject(); }
    return Promise.resolve(null);
  };
  TwilioPhone.prototype.hangup = function () {
    if (!this.call) return this.reject();
    this.call.sdk.disconnect();
    return Promise.resolve(null);
  };
  TwilioPhone.prototype.mute = function (on) { if (this.call) this.call.sdk.mute(!!on); };
  TwilioPhone.prototype.status = function () {
    return {edge: 'twilio', online: !this.offline, ringing: this.ringing && this.ringing.call,
            call: this.call && this.call.call,
            muted: !!(this.call && this.call.sdk.isMuted && this.call.sdk.isMuted())};
  };
  TwilioPhone.prototype.updateToken = function (token) { this.device.updateToken(token); };
  TwilioPhone.prototype.destroy = function () {
    this.stopped = true;
    global.removeEventListener('online', this._online);
    global.removeEventListener('offline', this._offline);
    if (this.channel) this.channel.close();
    this.device.destroy();
    return Promise.resolve(null);
  };

  global.Softphone = {
    /* options: {token, identity, edge: 'twilio' | 'emulator', emulator_url} (the voice-token
     * answer), plus for the emulator poll_seconds (long poll, default 25) and retry_ms. */
    create: function (options) {
      return options.edge === 'emulator' ? new EmulatorPhone(options) : new TwilioPhone(options);
    },
    EmulatorPhone: EmulatorPhone,
    TwilioPhone: TwilioPhone
  };
})(window);
