package org.postern.smtp.core.internal.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.MailHook;

class HookChainsTest {
    private static Map.Entry<HookType, RegisteredHook> mail(String name, int order, Set<String> listeners) {
        return new SimpleImmutableEntry<>(HookType.MAIL, new RegisteredHook(name, (MailHook) ctx -> HookResult.declined(),
                order, 0, order, null, null, listeners));
    }

    private static List<String> names(HookChains chains, HookType hook) {
        return chains.chain(hook).stream().map(RegisteredHook::pluginName).toList();
    }

    @Test
    void aListenerRunsThePluginsThatNameItAndThoseThatNameNone() {
        HookChains all = HookChains.of(List.of(mail("everywhere", 10, Set.of()), mail("submission-only", 20, Set.of("submission")),
                mail("mx-and-backup", 30, Set.of("mx", "backup"))));
        assertEquals(List.of("everywhere", "submission-only"), names(all.forListener("submission"), HookType.MAIL));
        assertEquals(List.of("everywhere", "mx-and-backup"), names(all.forListener("mx"), HookType.MAIL));
        assertEquals(List.of("everywhere"), names(all.forListener("default"), HookType.MAIL));
        assertSame(all.forListener("mx"), all.forListener("mx"), "each listener's chains are built once per snapshot");
    }

    @Test
    void aHookWhosePluginsAllRunElsewhereHasNoChainOnThisListener() {
        HookChains all = HookChains.of(List.of(mail("submission-only", 20, Set.of("submission"))));
        assertFalse(all.forListener("mx").has(HookType.MAIL));
        HookChains unrestricted = HookChains.of(List.of(mail("everywhere", 10, Set.of())));
        assertSame(unrestricted, unrestricted.forListener("mx"));
    }
}
