package com.example.postern.maxrcpt.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Refuses recipients past a limit per transaction with a temporary failure, so the sender retries the rest
 * later. A template: one hook interface, a nested config interface, constructor activation.
 */
@Component(service = RcptHook.class, configurationPid = "com.example.postern.maxrcpt")
@Designate(ocd = MaxRcpt.Config.class)
@PosternPlugin("max_rcpt")
@PosternHook("rcpt")
@HookOrder(600)
public final class MaxRcpt implements RcptHook {

    @ObjectClassDefinition(name = "Postern plugin: max_rcpt")
    public @interface Config {
        @AttributeDefinition(description = "Recipients accepted per transaction")
        int max_rcpt() default 20;
    }

    private volatile int max;

    @Activate
    public MaxRcpt(Config config) {
        configure(config);
    }

    @Modified
    void configure(Config config) {
        max = config.max_rcpt();
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        return ctx.transaction().recipients().size() < max ? HookResult.declined()
                : HookResult.denySoft("Too many recipients, send the rest later").withReplyCode(452).withEnhancedStatus("4.5.3");
    }
}
