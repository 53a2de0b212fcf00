package org.postern.smtp.core.internal.dispatch;

import org.postern.smtp.api.*;

/** Calls the method of the hook interface that belongs to a hook name. */
final class HookInvoker {
    private HookInvoker() {
    }

    static HookResult invoke(HookType hook, Object service, HookContext ctx) {
        return switch (hook) {
            case PRE_CONNECTION -> ((PreConnectionHook) service).onPreConnection((PreConnectionContext) ctx);
            case CONNECT -> ((ConnectHook) service).onConnect(ctx);
            case HELO_PARSE -> ((HeloParseHook) service).onHeloParse((ParseContext) ctx);
            case EHLO_PARSE -> ((EhloParseHook) service).onEhloParse((ParseContext) ctx);
            case HELO -> ((HeloHook) service).onHelo((HeloContext) ctx);
            case EHLO -> ((EhloHook) service).onEhlo((HeloContext) ctx);
            case MAIL_PARSE -> ((MailParseHook) service).onMailParse((ParseContext) ctx);
            case MAIL_PRE -> ((MailPreHook) service).onMailPre((AddressPreContext) ctx);
            case MAIL -> ((MailHook) service).onMail((MailContext) ctx);
            case RCPT_PARSE -> ((RcptParseHook) service).onRcptParse((ParseContext) ctx);
            case RCPT_PRE -> ((RcptPreHook) service).onRcptPre((AddressPreContext) ctx);
            case RCPT -> ((RcptHook) service).onRcpt((RcptContext) ctx);
            case DATA -> ((DataHook) service).onData(ctx);
            case DATA_HEADERS_END -> ((DataHeadersEndHook) service).onDataHeadersEnd(ctx);
            case RECEIVED_LINE -> ((ReceivedLineHook) service).onReceivedLine((ReceivedLineContext) ctx);
            case DATA_POST_HEADERS -> ((DataPostHeadersHook) service).onDataPostHeaders(ctx);
            case DATA_POST -> ((DataPostHook) service).onDataPost(ctx);
            case QUEUE_PRE -> ((QueuePreHook) service).onQueuePre(ctx);
            case QUEUE -> ((QueueHook) service).onQueue(ctx);
            case QUEUE_POST -> ((QueuePostHook) service).onQueuePost(ctx);
            case RESET_TRANSACTION -> ((ResetTransactionHook) service).onResetTransaction(ctx);
            case QUIT -> ((QuitHook) service).onQuit(ctx);
            case DISCONNECT -> ((DisconnectHook) service).onDisconnect(ctx);
            case POST_CONNECTION -> ((PostConnectionHook) service).onPostConnection(ctx);
            case AUTH_PARSE -> ((AuthParseHook) service).onAuthParse((ParseContext) ctx);
            case AUTH, AUTH_PLAIN, AUTH_LOGIN, AUTH_CRAM_MD5 -> ((AuthHook) service).onAuth((AuthContext) ctx);
            case LOGGING -> ((LoggingHook) service).onLogging((LoggingContext) ctx);
            case DENY -> ((DenyHook) service).onDeny((ResultContext) ctx);
            case OK -> ((OkHook) service).onOk((ResultContext) ctx);
            case CONFIG -> ((ConfigHook) service).onConfig((ConfigContext) ctx);
            case USER_CONFIG -> ((UserConfigHook) service).onUserConfig((UserConfigContext) ctx);
            case UNRECOGNIZED_COMMAND -> ((UnrecognizedCommandHook) service).onUnrecognizedCommand((CommandContext) ctx);
            case HELP -> ((HelpHook) service).onHelp((CommandContext) ctx);
            case VRFY -> ((VrfyHook) service).onVrfy((CommandContext) ctx);
            case NOOP -> ((NoopHook) service).onNoop((CommandContext) ctx);
        };
    }
}
