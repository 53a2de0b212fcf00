package org.postern.smtp.plugin.senderpermittedfrom.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.SpfResult;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code sender_permitted_from}: at MAIL FROM the SPF policy of the sender's domain is checked for the
 * client's address (RFC 7208, by Apache James jSPF through the server's resolver; the hook answers when the check
 * is done). The result goes into the Authentication-Results header and the transaction notes, refuses the sender as
 * the {@code reject} level says, and at the end of DATA into a Received-SPF header at the top of the message.
 */
@Component(service = {MailHook.class, DataPostHook.class}, configurationPid = SenderPermittedFrom.PID)
@Designate(ocd = SenderPermittedFrom.Config.class)
@PosternPlugin("sender_permitted_from")
@PosternHook({"mail", "data_post"})
@HookOrder(450)
public final class SenderPermittedFrom implements MailHook, DataPostHook {
    static final String PID = "org.postern.smtp.plugin.sender_permitted_from";

    /** Transaction: the sender's domain, in lower case, when its policy passed the client. */
    public static final NoteKey<String> SPF_PASS_HOST = NoteKey.of("spf_pass_host", String.class);
    /** Transaction: the result of the check, for the Received-SPF header. */
    public static final NoteKey<Received> SPF_QUERY = NoteKey.of("spfquery", Received.class);

    private static final int DEFAULT_TIMEOUT_SECONDS = 20;
    private static final int HIGHEST_LEVEL = 6;
    /** RFC 5322's dot-atom: a Received-SPF value of another shape is quoted (RFC 7208 9.1). */
    private static final Pattern DOT_ATOM = Pattern.compile("[\\p{Alnum}!#$%&'*+\\-/=?^_`{|}~]+(\\.[\\p{Alnum}!#$%&'*+\\-/=?^_`{|}~]+)*");
    private static final Logger LOG = LoggerFactory.getLogger(SenderPermittedFrom.class);

    /** Keys are qpsmtpd's option names: a double underscore in a method name is an underscore in the key. */
    @ObjectClassDefinition(name = "Postern plugin: sender_permitted_from",
            description = "Checks the SPF policy of the sender's domain (qpsmtpd's sender_permitted_from)")
    public @interface Config {
        @AttributeDefinition(description = "0 or 1 only annotate; 2 defers on DNS failures; 3 refuses fail; 4 also "
                + "softfail; 5 also neutral; 6 also none and policy errors. Empty or 0: the config item spfbehavior")
        String reject() default "";

        @AttributeDefinition(name = "spf_deny", description = "qpsmtpd's older option: 1 is reject 3, 2 is reject 4")
        String spf__deny() default "";

        @AttributeDefinition(description = "Seconds the whole check may take; no answer by then is no result")
        int timeout() default DEFAULT_TIMEOUT_SECONDS;

        @AttributeDefinition(description = "Place in the mail and data_post chains; lower runs first")
        int postern_hook_order() default 450;
    }

    /** The result code and the value of the Received-SPF header (RFC 7208 9.1) that says it. */
    public record Received(String code, String header) {
    }

    private final SpfCheck spf;
    private final int configuredLevel;
    private final int timeoutSeconds;

    @Activate
    public SenderPermittedFrom(@Reference Resolver resolver, Config config) {
        this.spf = new SpfCheck(resolver);
        int deny = level(config.spf__deny(), "spf_deny");
        this.configuredLevel = deny == 1 ? 3 : deny == 2 ? 4 : level(config.reject(), "reject");
        if (config.timeout() > 0) {
            this.timeoutSeconds = config.timeout();
        } else {
            LOG.error("configuration {}: key 'timeout' must be a positive number of seconds, not {}; using {}", PID,
                    config.timeout(), DEFAULT_TIMEOUT_SECONDS);
            this.timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
        }
    }

    /** A reject level; empty is 0, and so is anything else that is not 0 to 6, logged at ERROR. */
    private static int level(String value, String key) {
        String text = value == null ? "" : value.strip();
        if (text.isEmpty()) {
            return 0;
        }
        try {
            int level = Integer.parseInt(text);
            if (level >= 0 && level <= HIGHEST_LEVEL) {
                return level;
            }
        } catch (NumberFormatException notANumber) {
            // logged below with the out-of-range values
        }
        LOG.error("configuration {}: key '{}' must be a level from 0 to {}, not '{}'; using 0", PID, key, HIGHEST_LEVEL, text);
        return 0;
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        Address sender = ctx.sender();
        if (PluginConventions.isImmune(ctx)) {
            ctx.transaction().notes().put(SharedNotes.DMARC_SPF, new SpfResult(sender.normalizedHost().orElse(""), "mfrom", "pass"));
            return HookResult.declined();
        }
        if (sender.isNullSender() || sender.host().isEmpty() || sender.user().isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, null sender");
            ctx.transaction().notes().put(SharedNotes.DMARC_SPF, new SpfResult("", "helo", "none"));
            return HookResult.declined();
        }
        String domain = sender.normalizedHost().orElseThrow();
        String from = sender.user() + "@" + domain;
        String helo = ctx.session().heloHost().orElse(null);
        String clientIp = clientIp(ctx.session().remoteAddress().getAddress());
        ctx.transaction().notes().put(SharedNotes.DMARC_SPF, new SpfResult(domain, "mfrom", "none"));
        int level = configuredLevel > 0 ? configuredLevel : level(ctx.config("spfbehavior", ""), "spfbehavior");
        String receiver = ctx.config("me", "unknown");
        return HookResult.later(spf.check(clientIp, from, helo == null ? "" : helo)
                .orTimeout(timeoutSeconds, TimeUnit.SECONDS)
                .handle((result, error) -> {
                    if (error != null) {
                        ctx.log(LogLevel.INFO, "fail, no response");
                        return level >= 2 ? HookResult.denySoft("SPF - no response") : HookResult.declined();
                    }
                    String header = receivedSpf(result, receiver, from, helo, clientIp);
                    ctx.transaction().notes().put(SPF_QUERY, new Received(result.code(), header));
                    ctx.transaction().notes().put(SharedNotes.DMARC_SPF, new SpfResult(domain, "mfrom", result.code()));
                    PluginConventions.storeTransactionAuthResults(ctx, "spf=" + result.code() + " smtp.mailfrom=" + domain);
                    return verdict(ctx, level, result.code(), result.why(), domain);
                }));
    }

    /** The address as jSPF reads it: IPv6 without a scope. */
    private static String clientIp(InetAddress address) {
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        return scope < 0 ? text : text.substring(0, scope);
    }

    /** qpsmtpd's table of SPF results and reject levels. */
    private static HookResult verdict(HookContext ctx, int level, String code, String why, String domain) {
        if (code.equals("pass")) {
            PluginConventions.adjustKarma(ctx, 1);
            ctx.transaction().notes().put(SPF_PASS_HOST, domain);
            ctx.log(LogLevel.INFO, "pass, " + why);
            return HookResult.declined();
        }
        if (level == 0) {
            ctx.log(LogLevel.INFO, "skip, tolerated (" + code + ": " + why + ")");
            return HookResult.declined();
        }
        return switch (code) {
            case "fail" -> {
                PluginConventions.adjustKarma(ctx, -1);
                yield level >= 3 ? refuse(ctx, false, "fail, " + why, "SPF - forgery: " + why)
                        : level == 2 ? refuse(ctx, true, "fail, " + why, "SPF - fail: " + why)
                        : tolerate(ctx, "fail, tolerated, " + why);
            }
            case "softfail" -> {
                PluginConventions.adjustKarma(ctx, -1);
                yield level >= 3 ? refuse(ctx, level == 3, "fail, soft, " + why, "SPF - fail: " + why)
                        : tolerate(ctx, "fail, tolerated, soft, " + why);
            }
            case "neutral" -> level >= 5 ? refuse(ctx, false, "fail, neutral, " + why, "SPF - neutral: " + why)
                    : tolerate(ctx, "fail, tolerated, neutral, " + why);
            case "none" -> level >= 6 ? refuse(ctx, false, "fail, none, " + why, "SPF - none: " + why)
                    : tolerate(ctx, "skip, tolerated, none, " + why);
            case "permerror", "error" -> level > 3
                    ? refuse(ctx, level < 6, "fail, " + code + ", " + why, "SPF - " + code + ": " + why)
                    : tolerate(ctx, "fail, tolerated, " + code + ", " + why);
            case "temperror" -> level >= 2 ? refuse(ctx, true, "fail, " + code + ", " + why, "SPF - " + code + ": " + why)
                    : tolerate(ctx, "fail, tolerated, " + code + ", " + why);
            default -> tolerate(ctx, "SPF for " + domain + " was " + code + ": " + why);
        };
    }

    private static HookResult refuse(HookContext ctx, boolean temporarily, String logLine, String reply) {
        ctx.log(LogLevel.INFO, logLine);
        return temporarily ? HookResult.denySoft(reply) : HookResult.deny(reply);
    }

    private static HookResult tolerate(HookContext ctx, String logLine) {
        ctx.log(LogLevel.INFO, logLine);
        return HookResult.declined();
    }

    /** The header as Mail::SPF writes it: result, comment, then receiver, identity, envelope-from, helo, client-ip. */
    static String receivedSpf(SpfCheck.Result result, String receiver, String from, String helo, String clientIp) {
        List<String> pairs = new ArrayList<>(List.of("receiver=" + value(receiver), "identity=mailfrom",
                "envelope-from=" + value(from)));
        if (helo != null) {
            pairs.add("helo=" + value(helo));
        }
        pairs.add("client-ip=" + value(clientIp));
        return result.code() + " (" + result.why() + ") " + String.join("; ", pairs);
    }

    private static String value(String text) {
        return DOT_ATOM.matcher(text).matches() ? text : "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        Optional<Received> received = ctx.transaction().notes().get(SPF_QUERY);
        if (received.isEmpty() || PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        ctx.log(LogLevel.DEBUG, "result was " + received.get().code());
        if (ctx.transaction().header().isEmpty()) {
            ctx.log(LogLevel.ERROR, "missing headers!");
            return HookResult.declined();
        }
        ctx.transaction().header().get().prepend("Received-SPF", received.get().header());
        return HookResult.declined();
    }
}
