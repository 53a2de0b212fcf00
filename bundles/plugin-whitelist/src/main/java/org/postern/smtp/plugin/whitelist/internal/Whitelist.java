package org.postern.smtp.plugin.whitelist.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.EhloHook;
import org.postern.smtp.api.HeloContext;
import org.postern.smtp.api.HeloHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MailContext;
import org.postern.smtp.api.MailHook;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * qpsmtpd's {@code whitelist}: a listed client host, HELO name, sender or recipient ends its hook's chain with OK,
 * so the plugins after this one skip their check at that hook, and leaves a note that immune-aware plugins honour
 * later ({@code whitelisthost}, {@code whitelistsender}, see {@link PluginConventions#isImmune}). With
 * {@code per_recipient} every check waits for RCPT and also reads the recipient's own lists.
 */
@Component(service = {ConnectHook.class, HeloHook.class, EhloHook.class, MailHook.class, RcptHook.class},
        configurationPid = Whitelist.PID)
@Designate(ocd = Whitelist.Config.class)
@PosternPlugin("whitelist")
@PosternHook({"connect", "helo", "ehlo", "mail", "rcpt"})
@HookOrder(80)
public final class Whitelist implements ConnectHook, HeloHook, EhloHook, MailHook, RcptHook {
    static final String PID = "org.postern.smtp.plugin.whitelist";
    private static final int HOST_KARMA = 5;

    /** The lists are config items; the options are qpsmtpd's arguments, with Perl's truth (1/0). */
    @ObjectClassDefinition(name = "Postern plugin: whitelist",
            description = "Exempts hosts, HELO names, senders and recipients listed in whitelisthosts, whitelisthelo, "
                    + "whitelistsenders and whitelistrcpt from the checks of later plugins")
    public @interface Config {
        @AttributeDefinition(name = "per_recipient", description = "1: check everything at RCPT, against the "
                + "recipient's own lists (user_config) too")
        String per__recipient() default "0";

        @AttributeDefinition(description = "With per_recipient: 1 adds the global lists to the recipient's own; "
                + "0 uses the global lists only for a recipient that has none")
        String merge() default "1";

        @AttributeDefinition(description = "Place in each hook's chain; lower runs first")
        int postern_hook_order() default 80;
    }

    private final boolean perRecipient;
    private final boolean merge;

    @Activate
    public Whitelist(Config config) {
        this.perRecipient = PluginConventions.perlTrue(config.per__recipient());
        this.merge = PluginConventions.perlTrue(config.merge());
    }


    @Override
    public HookResult onConnect(HookContext ctx) {
        return perRecipient ? HookResult.declined() : checkHost(ctx, ctx.config("whitelisthosts"));
    }

    @Override
    public HookResult onHelo(HeloContext ctx) {
        return perRecipient ? HookResult.declined() : checkHelo(ctx, ctx.host(), ctx.config("whitelisthelo"));
    }

    @Override
    public HookResult onEhlo(HeloContext ctx) {
        return onHelo(ctx);
    }

    @Override
    public HookResult onMail(MailContext ctx) {
        return perRecipient ? HookResult.declined() : checkSender(ctx, ctx.sender(), ctx.config("whitelistsenders"));
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        Address recipient = ctx.recipient();
        if (!perRecipient) {
            return checkRecipient(ctx, recipient, ctx.config("whitelistrcpt"));
        }
        // qpsmtpd registers the four checks at rcpt in this order; the first OK ends the chain
        return Stream.<Supplier<HookResult>>of(
                        () -> checkHost(ctx, lists(ctx, recipient, "whitelisthosts")),
                        () -> checkHelo(ctx, ctx.session().heloHost().orElse(""), lists(ctx, recipient, "whitelisthelo")),
                        () -> ctx.transaction().sender()
                                .map(sender -> checkSender(ctx, sender, lists(ctx, recipient, "whitelistsenders")))
                                .orElse(HookResult.declined()),
                        () -> checkRecipient(ctx, recipient, lists(ctx, recipient, "whitelistrcpt")))
                .map(Supplier::get)
                .filter(result -> result.code() == ReturnCode.OK)
                .findFirst()
                .orElse(HookResult.declined());
    }

    /** The recipient's own list (user_config) with the global one added, or the global one alone when it has none. */
    private List<String> lists(HookContext ctx, Address recipient, String item) {
        List<String> entries = new ArrayList<>(ctx.userConfig(recipient, item));
        if (merge || entries.isEmpty()) {
            entries.addAll(ctx.config(item));
        }
        return entries;
    }

    private static HookResult checkHost(HookContext ctx, List<String> entries) {
        String ip = ctx.session().remoteAddress().getAddress().getHostAddress();
        for (String entry : entries) {
            String prefix = entry.strip();
            // qpsmtpd's /^\Q$h\E/: an entry is a start-anchored fragment, so "192.168.1" also covers 192.168.10.x
            if (!prefix.isEmpty() && ip.startsWith(prefix)) {
                ctx.session().notes().put(SharedNotes.WHITELIST_HOST, true);
                ctx.log(LogLevel.INFO, "pass, is a whitelisted host");
                PluginConventions.adjustKarma(ctx, HOST_KARMA);
                return HookResult.ok();
            }
        }
        ctx.log(LogLevel.DEBUG, "skip: " + ip + " is not whitelisted");
        return HookResult.declined();
    }

    private static HookResult checkHelo(HookContext ctx, String helo, List<String> entries) {
        for (String entry : entries) {
            if (!helo.isEmpty() && entry.strip().equalsIgnoreCase(helo)) {
                ctx.session().notes().put(SharedNotes.WHITELIST_HELO, true);
                ctx.log(LogLevel.INFO, "helo host " + helo + " in whitelisthelo");
                return HookResult.ok();
            }
        }
        return HookResult.declined();
    }

    private static HookResult checkSender(HookContext ctx, Address sender, List<String> entries) {
        Optional<String> match = match(sender, entries);
        if (match.isEmpty()) {
            return HookResult.declined();
        }
        ctx.transaction().notes().put(SharedNotes.WHITELIST_SENDER, true);
        ctx.log(LogLevel.INFO, "envelope sender " + match.get() + " in whitelistsenders");
        return HookResult.ok();
    }

    private static HookResult checkRecipient(HookContext ctx, Address recipient, List<String> entries) {
        Optional<String> match = match(recipient, entries);
        if (match.isEmpty()) {
            return HookResult.declined();
        }
        ctx.transaction().notes().put(SharedNotes.WHITELIST_RCPT, ctx.transaction().notes().get(SharedNotes.WHITELIST_RCPT).orElse(0) + 1);
        ctx.log(LogLevel.INFO, "recipient " + match.get() + " in whitelistrcpt");
        return HookResult.ok();
    }

    /**
     * The address in lower case when an entry is that address or its domain; an address without a domain (the null
     * sender, {@code <postmaster>}) never matches.
     */
    private static Optional<String> match(Address address, List<String> entries) {
        Optional<String> host = address.normalizedHost().filter(domain -> !domain.isEmpty());
        if (host.isEmpty()) {
            return Optional.empty();
        }
        String lowerAddress = address.address().toLowerCase(Locale.ROOT);
        for (String entry : entries) {
            String lowerEntry = entry.strip().toLowerCase(Locale.ROOT);
            if (!lowerEntry.isEmpty() && (lowerEntry.equals(lowerAddress) || lowerEntry.equals(host.get()))) {
                return Optional.of(lowerAddress);
            }
        }
        return Optional.empty();
    }
}
