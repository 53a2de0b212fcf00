package org.postern.smtp.api;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every hook of the spec: its qpsmtpd name, as used in the {@code postern.hook} service property, and the
 * interface a service registered for it implements.
 */
public enum HookType {
    PRE_CONNECTION("pre_connection", PreConnectionHook.class),
    CONNECT("connect", ConnectHook.class),
    HELO_PARSE("helo_parse", HeloParseHook.class),
    EHLO_PARSE("ehlo_parse", EhloParseHook.class),
    HELO("helo", HeloHook.class),
    EHLO("ehlo", EhloHook.class),
    MAIL_PARSE("mail_parse", MailParseHook.class),
    MAIL_PRE("mail_pre", MailPreHook.class),
    MAIL("mail", MailHook.class),
    RCPT_PARSE("rcpt_parse", RcptParseHook.class),
    RCPT_PRE("rcpt_pre", RcptPreHook.class),
    RCPT("rcpt", RcptHook.class),
    DATA("data", DataHook.class),
    DATA_HEADERS_END("data_headers_end", DataHeadersEndHook.class),
    RECEIVED_LINE("received_line", ReceivedLineHook.class),
    DATA_POST_HEADERS("data_post_headers", DataPostHeadersHook.class),
    DATA_POST("data_post", DataPostHook.class),
    QUEUE_PRE("queue_pre", QueuePreHook.class),
    QUEUE("queue", QueueHook.class),
    QUEUE_POST("queue_post", QueuePostHook.class),
    RESET_TRANSACTION("reset_transaction", ResetTransactionHook.class),
    QUIT("quit", QuitHook.class),
    DISCONNECT("disconnect", DisconnectHook.class),
    POST_CONNECTION("post_connection", PostConnectionHook.class),
    AUTH_PARSE("auth_parse", AuthParseHook.class),
    AUTH("auth", AuthHook.class),
    AUTH_PLAIN("auth-plain", AuthHook.class),
    AUTH_LOGIN("auth-login", AuthHook.class),
    AUTH_CRAM_MD5("auth-cram-md5", AuthHook.class),
    LOGGING("logging", LoggingHook.class),
    DENY("deny", DenyHook.class),
    OK("ok", OkHook.class),
    CONFIG("config", ConfigHook.class),
    USER_CONFIG("user_config", UserConfigHook.class),
    UNRECOGNIZED_COMMAND("unrecognized_command", UnrecognizedCommandHook.class),
    HELP("help", HelpHook.class),
    VRFY("vrfy", VrfyHook.class),
    NOOP("noop", NoopHook.class);

    private static final Map<String, HookType> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(HookType::hookName, Function.identity()));

    private final String hookName;
    private final Class<?> hookInterface;

    HookType(String hookName, Class<?> hookInterface) {
        this.hookName = hookName;
        this.hookInterface = hookInterface;
    }

    /** The name plugins register under, e.g. {@code rcpt} or {@code auth-plain}. */
    public String hookName() {
        return hookName;
    }

    /** The interface a service registered under this name must implement. */
    public Class<?> hookInterface() {
        return hookInterface;
    }

    public static Optional<HookType> forName(String hookName) {
        return Optional.ofNullable(BY_NAME.get(hookName));
    }
}
