package org.postern.smtp.plugin.dmarc.internal;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.DkimResults;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.SpfResult;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.plugin.dmarc.internal.DmarcRecord.Disposition;
import org.postern.smtp.plugin.dmarc.internal.PolicyDiscovery.Policy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code dmarc}: at {@code data_post}, after {@code sender_permitted_from} and {@code dkim}, the DMARC policy
 * of the From domain is looked up through the server's resolver (the hook answers {@link HookResult#later}) and applied
 * to the SPF and DKIM verdicts they left in the transaction's notes. The verdict goes into Authentication-Results; a
 * failure under {@code p=reject}, or {@code p=quarantine} unless {@code quarantine = mark}, is refused as the
 * {@code reject} and {@code reject_type} options say; messages under a policy that asks for aggregate reports leave a
 * record in {@code report_folder}.
 */
@Component(service = DataPostHook.class, configurationPid = Dmarc.PID)
@Designate(ocd = Dmarc.Config.class)
@PosternPlugin("dmarc")
@PosternHook("data_post")
@HookOrder(Dmarc.ORDER)
public final class Dmarc implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.dmarc";
    static final int ORDER = 475;
    private static final Logger LOG = LoggerFactory.getLogger(Dmarc.class);

    /** Keys are qpsmtpd's option names, and Postern's own: a double underscore in a method name is an underscore in the key. */
    @ObjectClassDefinition(name = "Postern plugin: dmarc",
            description = "Applies the From domain's DMARC policy to the SPF and DKIM results (qpsmtpd's dmarc)")
    public @interface Config {
        @AttributeDefinition(description = "1: refuse messages that fail a reject (or quarantine) policy; 0: only annotate; "
                + "naughty: leave the refusal to the naughty plugin")
        String reject() default "1";

        @AttributeDefinition(name = "reject_type", description = "How to refuse: perm, temp, disconnect, temp_disconnect")
        String reject__type() default "perm";

        @AttributeDefinition(description = "What p=quarantine does: reject, as qpsmtpd; or mark, which accepts the message "
                + "with quarantine_header")
        String quarantine() default "reject";

        @AttributeDefinition(name = "quarantine_header", description = "The field a quarantined message gets with quarantine = mark")
        String quarantine__header() default "X-DMARC-Quarantine: yes";

        @AttributeDefinition(name = "report_records", description = "Keep a record of each message under a policy that asks "
                + "for aggregate reports (rua)")
        boolean report__records() default true;

        @AttributeDefinition(name = "report_folder", description = "Where the records are kept, one file a day; empty: the "
                + "folder dmarc in the server's data folder")
        String report__folder() default "";

        @AttributeDefinition(name = "report_org_name", description = "The reporting organization in aggregate reports "
                + "(report_metadata/org_name); empty: this host's name")
        String report__org__name() default "";

        @AttributeDefinition(name = "report_email", description = "The reporter's address in aggregate reports; its domain "
                + "names the reports' files; empty: postmaster@ the organization's name")
        String report__email() default "";

        @AttributeDefinition(name = "report_extra_contact_info", description = "More contact information in aggregate "
                + "reports (e.g. a web page); empty: none")
        String report__extra__contact__info() default "";

        @AttributeDefinition(name = "report_hour", description = "Hour of the day (UTC, 0 to 23) at which the aggregate "
                + "reports of the day before are written; -1: only by the dmarc:report command")
        int report__hour() default -1;

        @AttributeDefinition(description = "Place in the data_post chain; after sender_permitted_from (450) and dkim (470)")
        int postern_hook_order() default ORDER;
    }

    private final PolicyDiscovery discovery;
    private final String reject;
    private final String rejectType;
    private final boolean markQuarantine;
    private final String[] quarantineHeader;
    private final AggregateRecords records;
    private final IntSupplier percentile;

    @Activate
    public Dmarc(@Reference Resolver resolver, Config config, BundleContext context) {
        this(resolver, config, reportFolder(config, context.getProperty("postern.data"), context.getProperty("karaf.data")),
                Clock.systemUTC(), () -> ThreadLocalRandom.current().nextInt(100));
    }

    Dmarc(Resolver resolver, Config config, Path reportFolder, Clock clock, IntSupplier percentile) {
        this.discovery = new PolicyDiscovery(resolver);
        this.reject = config.reject();
        this.rejectType = config.reject__type();
        String quarantine = config.quarantine().strip().toLowerCase(Locale.ROOT);
        if (!quarantine.equals("mark") && !quarantine.equals("reject")) {
            LOG.error("configuration {}: key 'quarantine' is reject or mark, not '{}'; using reject", PID, config.quarantine());
        }
        this.markQuarantine = quarantine.equals("mark");
        String[] field = config.quarantine__header().split(":", 2);
        this.quarantineHeader = new String[] {field[0].strip(), field.length > 1 ? field[1].strip() : "yes"};
        this.records = config.report__records() ? new AggregateRecords(reportFolder, clock) : null;
        this.percentile = percentile;
    }

    /** The configured folder, else {@code dmarc} in the launcher's data folder, or Karaf's {@code data/postern}. */
    static Path reportFolder(Config config, String posternData, String karafData) {
        if (!config.report__folder().isBlank()) {
            return Path.of(config.report__folder().strip());
        }
        Path data = posternData != null ? Path.of(posternData)
                : karafData != null ? Path.of(karafData, "postern") : Path.of(System.getProperty("java.io.tmpdir"), "postern");
        return data.resolve("dmarc");
    }

    @Deactivate
    void deactivate() {
        if (records != null) {
            records.close();
        }
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        if (ctx.session().authenticatedUser().isPresent() || ctx.session().notes().get(SharedNotes.RELAY_CLIENT).orElse(false)) {
            // qpsmtpd's "disable reporting to ourself": our own users' mail is not judged
            ctx.log(LogLevel.INFO, "skip, relay client");
            return HookResult.declined();
        }
        List<String> from = ctx.transaction().header().map(header -> header.get("From")).orElse(List.of());
        if (from.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, null sender");
            return PluginConventions.reject(ctx, reject, rejectType, "empty from address, null sender?", "no From field");
        }
        Optional<String> fromDomain = FromDomain.of(from);
        if (fromDomain.isEmpty()) {
            ctx.log(LogLevel.ERROR, "unparseable from header: " + String.join(" / ", from));
            return PluginConventions.reject(ctx, reject, rejectType, "unparseable from header", "no one From domain");
        }
        String domain = fromDomain.get();
        return HookResult.later(discovery.discover(domain).handle((policy, error) -> error == null
                ? apply(ctx, domain, policy)
                : temporaryError(ctx, domain, error instanceof CompletionException && error.getCause() != null ? error.getCause() : error)));
    }

    private HookResult temporaryError(HookContext ctx, String domain, Throwable error) {
        // qpsmtpd lets the message through when DMARC cannot be evaluated; RFC 7489 6.6.3 allows deferring, never requires it
        ctx.log(LogLevel.WARN, "skip, policy of " + domain + " unknown: " + error.getMessage());
        PluginConventions.storeTransactionAuthResults(ctx, "dmarc=temperror header.from=" + domain);
        return HookResult.declined();
    }

    private HookResult apply(HookContext ctx, String domain, Optional<Policy> policy) {
        if (policy.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, no policy");
            PluginConventions.storeTransactionAuthResults(ctx, "dmarc=none header.from=" + domain);
            return HookResult.declined();
        }
        Transaction transaction = ctx.transaction();
        Optional<DkimResults> dkim = transaction.notes().get(SharedNotes.DKIM_RESULTS);
        Optional<SpfResult> spf = transaction.notes().get(SharedNotes.DMARC_SPF);
        Evaluation evaluation = Evaluation.of(domain, policy.get(), dkim, spf, percentile.getAsInt());
        PluginConventions.storeTransactionAuthResults(ctx, evaluation.authenticationResult());
        keepRecord(ctx, evaluation, dkim, spf);
        if (evaluation.passed()) {
            ctx.log(LogLevel.INFO, "pass" + (evaluation.dkimAligned() ? ", DKIM aligned" : "") + (evaluation.spfAligned() ? ", SPF aligned" : ""));
            return HookResult.declined();
        }
        String policyText = "p=" + policy.get().record().policy().tag() + " dis=" + evaluation.disposition().tag();
        if (evaluation.disposition() == Disposition.NONE) {
            ctx.log(LogLevel.INFO, "fail, tolerated, " + policyText);
            return HookResult.declined();
        }
        if (PluginConventions.isImmune(ctx)) {
            return HookResult.declined();
        }
        if (evaluation.disposition() == Disposition.QUARANTINE && markQuarantine) {
            ctx.log(LogLevel.INFO, "fail, quarantined, " + policyText);
            transaction.header().ifPresent(header -> header.prepend(quarantineHeader[0], quarantineHeader[1]));
            return HookResult.declined();
        }
        PluginConventions.adjustKarma(ctx, -3);
        return PluginConventions.reject(ctx, reject, rejectType, "failed DMARC policy", policyText);
    }

    private void keepRecord(HookContext ctx, Evaluation evaluation, Optional<DkimResults> dkim, Optional<SpfResult> spf) {
        DmarcRecord record = evaluation.policy().record();
        if (records == null || record.aggregateReportTo().isEmpty()) {
            return;
        }
        Transaction transaction = ctx.transaction();
        records.add(new AggregateRecords.Row(List.of(
                ctx.session().remoteAddress().getAddress().getHostAddress(),
                evaluation.fromDomain(),
                transaction.sender().flatMap(sender -> sender.normalizedHost()).orElse(""),
                transaction.recipients().stream().findFirst().flatMap(recipient -> recipient.address().normalizedHost()).orElse(""),
                evaluation.policy().domain(),
                record.policy().tag(),
                record.subdomainPolicy().tag(),
                Integer.toString(record.percent()),
                record.strictDkim() ? "s" : "r",
                record.strictSpf() ? "s" : "r",
                evaluation.disposition().tag(),
                evaluation.dkimAligned() ? "pass" : "fail",
                evaluation.spfAligned() ? "pass" : "fail",
                dkim.map(results -> results.signatures().stream()
                        .map(signature -> signature.domain() + ":" + signature.selector() + ":" + signature.result())
                        .collect(Collectors.joining(","))).orElse(""),
                spf.map(result -> result.domain() + ":" + result.scope() + ":" + result.result()).orElse(""),
                String.join(",", record.aggregateReportTo()),
                record.failureOptions())));
    }
}
