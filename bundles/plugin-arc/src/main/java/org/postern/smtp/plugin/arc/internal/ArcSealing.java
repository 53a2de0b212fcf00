package org.postern.smtp.plugin.arc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.Designate;
import org.postern.mailauth.arc.ArcSealer;
import org.postern.mailauth.arc.ArcVerdict;
import org.postern.mailauth.dkim.SigningKey;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.QueuePreHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals the message just before it is queued (RFC 8617 5.1), after dkim has signed it so the seal covers the
 * DKIM-Signature: ARC-Authentication-Results with this server's Authentication-Results, ARC-Message-Signature and
 * ARC-Seal with the {@code cv=} that verification found, for the messages {@code seal} names.
 */
@Component(service = QueuePreHook.class, configurationPid = ArcConfig.PID)
@Designate(ocd = ArcConfig.class)
@PosternPlugin("arc")
@PosternHook("queue_pre")
@HookOrder(480)
public final class ArcSealing implements QueuePreHook {
    private static final Logger LOG = LoggerFactory.getLogger(ArcSealing.class);
    private static final String AUTHENTICATION_RESULTS = "Authentication-Results";

    private enum Scope { NONE, RELAY, ALL }

    private final Scope scope;
    private final Optional<ArcSealer> sealer;
    private final Clock clock;

    @Activate
    public ArcSealing(ArcConfig config, BundleContext context) {
        this(config, Path.of(Optional.ofNullable(context.getProperty("postern.etc")).orElse("etc"), "dkim"), Clock.systemUTC());
    }

    ArcSealing(ArcConfig config, Path defaultKeyFolder, Clock clock) {
        this.clock = clock;
        this.scope = scope(config.seal());
        this.sealer = scope == Scope.NONE ? Optional.empty() : sealer(config, defaultKeyFolder);
    }

    private static Scope scope(String text) {
        try {
            return Scope.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            LOG.error("configuration {}: key 'seal' must be none, relay or all, not '{}'; nothing is sealed", ArcConfig.PID, text);
            return Scope.NONE;
        }
    }

    /** The key of {@code seal_key} and {@code seal_selector}, or the dkim plugin's for {@code seal_domain}. */
    private static Optional<ArcSealer> sealer(ArcConfig config, Path defaultKeyFolder) {
        String domain = config.seal__domain().strip().toLowerCase(Locale.ROOT);
        if (domain.isEmpty()) {
            LOG.error("configuration {}: 'seal' is {} but 'seal_domain' is empty; nothing is sealed", ArcConfig.PID, config.seal());
            return Optional.empty();
        }
        Path folder = (config.key__folder().isBlank() ? defaultKeyFolder : Path.of(config.key__folder().strip())).resolve(domain);
        Path key = config.seal__key().isBlank() ? folder.resolve("private") : Path.of(config.seal__key().strip());
        try {
            String selector = config.seal__selector().isBlank()
                    ? Files.readAllLines(folder.resolve("selector"), StandardCharsets.US_ASCII).stream().findFirst().orElse("").strip()
                    : config.seal__selector().strip();
            if (selector.isEmpty()) {
                throw new IOException("no selector: set 'seal_selector' or write " + folder.resolve("selector"));
            }
            ArcSealer sealer = new ArcSealer(SigningKey.fromPem(Files.readString(key, StandardCharsets.US_ASCII)), domain, selector,
                    List.of(config.sign__headers()));
            LOG.info("arc: sealing as d={} s={} with {}", domain, selector, key);
            return Optional.of(sealer);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.error("arc: cannot read the sealing key {}: {}; nothing is sealed", key, e.toString());
            return Optional.empty();
        }
    }

    private boolean inScope(Session session) {
        return scope == Scope.ALL || session.authenticatedUser().isPresent() || session.notes().get(SharedNotes.RELAY_CLIENT).orElse(false);
    }

    @Override
    public HookResult onQueuePre(HookContext ctx) {
        if (sealer.isEmpty() || !inScope(ctx.session())) {
            return HookResult.declined();
        }
        Optional<ArcVerdict> verdict = ctx.transaction().notes().get(ArcVerification.VERDICT);
        MessageHeader header = ctx.transaction().header().orElseThrow();
        String me = ctx.config("me", "");
        Optional<String> results = header.fields().stream().filter(field -> field.name().equalsIgnoreCase(AUTHENTICATION_RESULTS))
                .map(HeaderField::unfoldedValue).filter(value -> value.startsWith(me + ";")).findFirst();
        if (verdict.isEmpty() || results.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, no " + (verdict.isEmpty() ? "verdict on the ARC chain" : "Authentication-Results of " + me));
            return HookResult.declined();
        }
        try (InputStream body = ctx.transaction().body()) {
            Optional<List<HeaderField>> set = sealer.get().seal(header.fields(), body, results.get(), verdict.get(), clock.instant());
            if (set.isEmpty()) {
                ctx.log(LogLevel.INFO, "skip, the chain ends here (" + verdict.get().detail() + ")");
                return HookResult.declined();
            }
            List<HeaderField> fields = set.get();
            for (int i = fields.size() - 1; i >= 0; i--) {
                header.prepend(fields.get(i).name(), fields.get(i).value().substring(1));
            }
            ctx.log(LogLevel.INFO, "pass, sealed as i=" + (verdict.get().instance() + 1) + " cv=" + verdict.get().result().keyword());
        } catch (IOException | GeneralSecurityException e) {
            ctx.log(LogLevel.ERROR, "error, could not seal the message: " + e);
        }
        return HookResult.declined();
    }
}
