package org.postern.smtp.plugin.dkim.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.mailauth.dkim.Canonicalization;
import org.postern.mailauth.dkim.DkimException;
import org.postern.mailauth.dkim.DkimSigner;
import org.postern.mailauth.dkim.DkimVerifier;
import org.postern.mailauth.dkim.Verdict;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.DkimResult;
import org.postern.smtp.api.DkimResults;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.QueuePreHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code dkim}: at the end of DATA every DKIM signature of an incoming message is verified (through the
 * server's resolver; the hook answers when the keys are in), the results go into Authentication-Results and the
 * transaction's {@link SharedNotes#DKIM_RESULTS}, and a failed signature refuses the message as {@code reject} says.
 * The mail of authenticated and relay clients is signed instead, just before it is queued, with the key of the
 * envelope sender's domain.
 */
@Component(service = {DataPostHook.class, QueuePreHook.class}, configurationPid = Dkim.PID)
@Designate(ocd = Dkim.Config.class)
@PosternPlugin("dkim")
@PosternHook({"data_post", "queue_pre"})
@HookOrder(470)
public final class Dkim implements DataPostHook, QueuePreHook {
    static final String PID = "org.postern.smtp.plugin.dkim";
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final Logger LOG = LoggerFactory.getLogger(Dkim.class);

    /** Keys are qpsmtpd's option names, then Postern's own; a double underscore in a method name is an underscore in the key. */
    @ObjectClassDefinition(name = "Postern plugin: dkim", description = "Verifies DKIM signatures and signs the mail of relay clients (qpsmtpd's dkim)")
    public @interface Config {
        @AttributeDefinition(description = "1 refuses a message whose signature fails, 0 only records it, naughty leaves the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(name = "reject_type", description = "perm (552) or temp (452), or disconnect / temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(name = "key_folder", description = "The signing keys, one folder per domain; empty: <etc>/dkim")
        String key__folder() default "";

        @AttributeDefinition(name = "max_signatures", description = "How many signatures of a message, from the top, are verified")
        int max__signatures() default 10;

        @AttributeDefinition(name = "sign_headers", description = "The header fields signed, each as often as the message has it")
        String[] sign__headers() default {"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
            "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"};

        @AttributeDefinition(name = "oversign_headers", description = "Fields signed once more than present, so none can be added")
        String[] oversign__headers() default {"From"};

        @AttributeDefinition(description = "header/body canonicalization of the signatures made: relaxed or simple")
        String canonicalization() default "relaxed/relaxed";

        @AttributeDefinition(description = "Place in the data_post and queue_pre chains; lower runs first")
        int postern_hook_order() default 470;
    }

    private final String reject;
    private final String rejectType;
    private final DkimVerifier verifier;
    private final Keyring keyring;
    private final Clock clock;

    @Activate
    public Dkim(@Reference Resolver resolver, Config config, BundleContext context) {
        this(resolver, config, keyFolder(config, context), Clock.systemUTC());
    }

    Dkim(Resolver resolver, Config config, Path keyFolder, Clock clock) {
        this.reject = config.reject();
        this.rejectType = config.reject__type();
        this.clock = clock;
        int maxSignatures = config.max__signatures();
        if (maxSignatures < 1) {
            LOG.error("configuration {}: key 'max_signatures' must be at least 1, not {}; using 10", PID, maxSignatures);
            maxSignatures = 10;
        }
        this.verifier = new DkimVerifier(resolver::txt, clock, CLOCK_SKEW, maxSignatures);
        Canonicalization[] canonicalization = canonicalization(config.canonicalization());
        List<String> fields = List.of(config.sign__headers());
        Set<String> overSigned = Set.copyOf(Arrays.asList(config.oversign__headers()));
        this.keyring = Keyring.read(keyFolder, spec -> new DkimSigner(spec.key(), spec.domain(), spec.selector(), fields, overSigned,
                canonicalization[0], canonicalization[1]));
    }

    private static Path keyFolder(Config config, BundleContext context) {
        if (!config.key__folder().isBlank()) {
            return Path.of(config.key__folder().strip());
        }
        return Path.of(Optional.ofNullable(context.getProperty("postern.etc")).orElse("etc"), "dkim");
    }

    private static Canonicalization[] canonicalization(String text) {
        String[] parts = text.strip().toLowerCase(Locale.ROOT).split("/", -1);
        try {
            Canonicalization header = Canonicalization.of(parts[0]);
            return new Canonicalization[] {header, parts.length > 1 ? Canonicalization.of(parts[1]) : Canonicalization.SIMPLE};
        } catch (DkimException e) {
            LOG.error("configuration {}: key 'canonicalization' must be relaxed/relaxed, relaxed/simple, simple/relaxed or simple/simple, "
                    + "not '{}'; using relaxed/relaxed", PID, text);
            return new Canonicalization[] {Canonicalization.RELAXED, Canonicalization.RELAXED};
        }
    }

    private static boolean relayClient(Session session) {
        return session.authenticatedUser().isPresent() || session.notes().get(SharedNotes.RELAY_CLIENT).orElse(false);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        // qpsmtpd signs a relay client's message here; Postern signs it at queue_pre, once the header is final
        if (relayClient(ctx.session()) || PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        List<HeaderField> header = ctx.transaction().header().map(MessageHeader::fields).orElse(List.of());
        CompletionStage<List<Verdict>> verdicts;
        try (InputStream body = ctx.transaction().body()) {
            verdicts = verifier.verify(header, body);
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "error, cannot read the message: " + e);
            return HookResult.declined();
        }
        return HookResult.later(verdicts.thenApply(list -> decide(ctx, list, header)));
    }

    private HookResult decide(HookContext ctx, List<Verdict> verdicts, List<HeaderField> header) {
        ctx.transaction().notes().put(SharedNotes.DKIM_RESULTS, new DkimResults(verdicts.stream()
                .map(verdict -> new DkimResult(verdict.domain(), verdict.selector(), verdict.result().keyword(), verdict.signaturePrefix()))
                .toList()));
        if (verdicts.isEmpty()) {
            PluginConventions.storeTransactionAuthResults(ctx, "dkim=none");
            ctx.log(LogLevel.INFO, "skip, no signature");
            return HookResult.declined();
        }
        verdicts.forEach(verdict -> PluginConventions.storeTransactionAuthResults(ctx, authResult(verdict)));
        // as Mail::DKIM: the first signature speaks for the message, unless a later one passes
        Verdict deciding = verdicts.stream().filter(verdict -> verdict.result() == Verdict.Result.PASS).findFirst().orElse(verdicts.get(0));
        String detail = qpsmtpdResult(deciding) + (deciding.detail().isEmpty() ? "" : " (" + deciding.detail() + ")");
        String details = "domain: " + deciding.domain() + ", selector: " + deciding.selector() + ", result: " + detail;
        return switch (deciding.result()) {
            case PASS -> {
                ctx.transaction().header().ifPresent(fields -> fields.prepend("X-DKIM-Authentication", details));
                if (fromDomain(header).filter(deciding.domain()::equals).isPresent()) {
                    ctx.log(LogLevel.INFO, "pass, valid signature, accept policy");
                    PluginConventions.adjustKarma(ctx, 1);
                } else {
                    ctx.log(LogLevel.INFO, "pass, valid signature, neutral policy");
                }
                yield HookResult.declined();
            }
            case FAIL -> {
                PluginConventions.adjustKarma(ctx, -1);
                yield PluginConventions.reject(ctx, reject, rejectType, "signature invalid: " + detail, details);
            }
            case TEMPERROR -> {
                ctx.log(LogLevel.INFO, "error, " + details);
                yield HookResult.denySoft("Please try again later - " + detail);
            }
            default -> {
                PluginConventions.adjustKarma(ctx, -1);
                ctx.log(LogLevel.INFO, "invalid signature, " + details);
                yield HookResult.declined();
            }
        };
    }

    /** Mail::DKIM's name of a result, which qpsmtpd's replies and logs show: {@code invalid} for what RFC 8601 calls permerror. */
    private static String qpsmtpdResult(Verdict verdict) {
        return switch (verdict.result()) {
            case PASS, FAIL, TEMPERROR -> verdict.result().keyword();
            default -> "invalid";
        };
    }

    /** An Authentication-Results entry (RFC 8601 2.7.1, with RFC 6008's header.b). */
    private static String authResult(Verdict verdict) {
        StringBuilder entry = new StringBuilder("dkim=").append(verdict.result().keyword());
        if (!verdict.detail().isEmpty()) {
            entry.append(" (").append(verdict.detail().replace('(', '[').replace(')', ']')).append(')');
        }
        if (!verdict.domain().isEmpty()) {
            entry.append(" header.d=").append(verdict.domain());
        }
        if (!verdict.selector().isEmpty()) {
            entry.append(" header.s=").append(verdict.selector());
        }
        if (!verdict.signaturePrefix().isEmpty()) {
            entry.append(" header.b=").append(verdict.signaturePrefix());
        }
        return entry.toString();
    }

    /** The domain of the From field's address, lower case; empty when there is no single address to read. */
    private static Optional<String> fromDomain(List<HeaderField> header) {
        List<HeaderField> from = header.stream().filter(field -> field.name().equalsIgnoreCase("From")).toList();
        if (from.size() != 1) {
            return Optional.empty();
        }
        String value = from.get(0).unfoldedValue();
        int open = value.lastIndexOf('<');
        String address = open >= 0 && value.indexOf('>', open) > 0 ? value.substring(open + 1, value.indexOf('>', open)) : value;
        int at = address.lastIndexOf('@');
        return at < 0 ? Optional.empty() : Optional.of(address.substring(at + 1).strip().toLowerCase(Locale.ROOT));
    }

    @Override
    public HookResult onQueuePre(HookContext ctx) {
        if (!relayClient(ctx.session())) {
            return HookResult.declined();
        }
        Optional<String> domain = ctx.transaction().sender().flatMap(Address::normalizedHost);
        Optional<Keyring.DomainKeys> keys = domain.flatMap(keyring::forDomain);
        if (keys.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, DKIM not configured for " + domain.orElse("the null sender"));
            return HookResult.declined();
        }
        if (!keys.get().signingDomain().equals(domain.get())) {
            ctx.log(LogLevel.INFO, "info, using " + keys.get().signingDomain() + " key for " + domain.get());
        }
        MessageHeader header = ctx.transaction().header().orElseThrow();
        List<HeaderField> fields = header.fields();
        try (InputStream body = ctx.transaction().body()) {
            // every signer of a domain canonicalizes alike and hashes with SHA-256: one pass over the body serves all
            byte[] bodyHash = keys.get().signers().get(0).bodyHash(body);
            for (DkimSigner signer : keys.get().signers()) {
                header.prepend("DKIM-Signature", signer.sign(fields, bodyHash, clock.instant()));
            }
        } catch (IOException | GeneralSecurityException e) {
            ctx.log(LogLevel.ERROR, "error, could not sign the message: " + e);
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "pass, we signed the message");
        return HookResult.declined();
    }
}
