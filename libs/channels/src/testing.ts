export { FAKE_CHANNEL_DEFAULTS, FakeChannelServer, type FakeChannelServerOptions } from './fake/fake-server';
export { type ScriptedResponse, type ScriptRule, type HttpScriptRule } from './fake/script';
export { type CallbackDelaysMs, type CallbackRetryOptions } from './fake/callbacks';
export { type FakeCallbackDelivery, type FakeCallbackEvent, type FakeChannelCall } from './fake/types';
