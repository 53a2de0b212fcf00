package org.postern.smtp.plugin.arc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postern.mailauth.arc.ArcVerdict;
import org.postern.mailauth.arc.ArcVerifier;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Verifies the message's ARC chain at the end of DATA (RFC 8617 5.2), after dkim and before dmarc: {@code arc=} goes
 * into the message's Authentication-Results, the verdict into {@link #VERDICT} for sealing. Keys come through the
 * server's resolver and the hook answers when they are in; the body is read once, and only when there is a chain.
 * ARC tells later hops what this one saw; it never refuses a message.
 */
@Component(service = DataPostHook.class, configurationPid = ArcConfig.PID)
@PosternPlugin("arc")
@PosternHook("data_post")
@HookOrder(472)
public final class ArcVerification implements DataPostHook {
    /** Transaction: what verifying the chain found, which sealing continues from. */
    static final NoteKey<ArcVerdict> VERDICT = NoteKey.of("arc_verdict", ArcVerdict.class);

    private final ArcVerifier verifier;

    @Activate
    public ArcVerification(@Reference Resolver resolver) {
        this(resolver, Clock.systemUTC());
    }

    ArcVerification(Resolver resolver, Clock clock) {
        this.verifier = new ArcVerifier(resolver::txt, clock);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        List<HeaderField> header = ctx.transaction().header().map(MessageHeader::fields).orElse(List.of());
        try (InputStream body = ctx.transaction().body()) {
            return HookResult.later(verifier.verify(header, body).thenApply(verdict -> record(ctx, verdict)));
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "error, cannot read the message: " + e);
            return HookResult.declined();
        }
    }

    private static HookResult record(HookContext ctx, ArcVerdict verdict) {
        ctx.transaction().notes().put(VERDICT, verdict);
        PluginConventions.storeTransactionAuthResults(ctx, verdict.authResult());
        ctx.log(LogLevel.INFO, verdict.result().keyword() + (verdict.detail().isEmpty() ? "" : ", " + verdict.detail()));
        return HookResult.declined();
    }
}
