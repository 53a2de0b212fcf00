package org.postern.smtp.plugin.loop.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code loop}, as qmail-smtpd does it: a message whose header holds {@code max_hops} or more
 * Received and Delivered-To lines (this server's own Received line included) is looping, and is refused.
 */
@Component(service = DataPostHook.class, configurationPid = Loop.PID)
@Designate(ocd = Loop.Config.class)
@PosternPlugin("loop")
@PosternHook("data_post")
@HookOrder(300)
public final class Loop implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.loop";
    private static final Logger LOG = LoggerFactory.getLogger(Loop.class);
    private static final int QMAIL_MAX_HOPS = 100;

    @ObjectClassDefinition(name = "Postern plugin: loop",
            description = "Refuses messages with too many Received and Delivered-To header lines")
    public @interface Config {
        @AttributeDefinition(description = "Received plus Delivered-To lines at which a message counts as looping")
        int max__hops() default QMAIL_MAX_HOPS;
    }

    private final int maxHops;

    @Activate
    public Loop(Config config) {
        int configured = config.max__hops();
        if (configured < 1) {
            LOG.warn("configuration {}: key 'max_hops': invalid value {}; using the default {}", PID, configured, QMAIL_MAX_HOPS);
        }
        this.maxHops = configured < 1 ? QMAIL_MAX_HOPS : configured;
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        int hops = ctx.transaction().header().map(Loop::hops).orElse(0);
        if (hops < maxHops) {
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "fail, " + hops + " hops (max_hops " + maxHops + ")");
        // qpsmtpd's Qpsmtpd::DSN too_many_hops: DENY with status 5.4.6 (routing loop)
        return HookResult.deny("Too many hops").withEnhancedStatus("5.4.6");
    }

    private static int hops(MessageHeader header) {
        return header.get("Received").size() + header.get("Delivered-To").size();
    }
}
