package org.postern.smtp.plugin.queue.discard.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Answers 250 and drops the message, like Postfix's discard transport: the baseline of benchmarks. It needs
 * its configuration to exist, so it is never active by accident.
 */
@Component(service = QueueHook.class, configurationPid = "org.postern.smtp.plugin.queue.discard",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = DiscardQueue.Config.class)
@PosternPlugin("queue/discard")
@PosternHook("queue")
@HookOrder(500)
public final class DiscardQueue implements QueueHook {

    @ObjectClassDefinition(name = "Postern plugin: queue/discard", description = "Drops every message: benchmarks only")
    public @interface Config {
        @AttributeDefinition(description = "Place in the queue chain; lower runs first")
        int postern_hook_order() default 500;
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        ctx.log(LogLevel.DEBUG, "discarded " + ctx.transaction().size() + " octets");
        return HookResult.ok("Discarded");
    }
}
