package org.postern.smtp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HookResultTest {
    @Test
    void factoriesSetCodeAndMessage() {
        HookResult result = HookResult.denySoft("try", "later").withReplyCode(452).withEnhancedStatus("4.2.2");
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of("try", "later"), result.message());
        assertEquals(452, result.replyCode().orElseThrow());
        assertEquals("4.2.2", result.enhancedStatus().orElseThrow());
        assertTrue(HookResult.ok().message().isEmpty());
        assertEquals(ReturnCode.DONE, HookResult.done(502, "Not implemented").code());
    }

    @Test
    void refusesMalformedCodes() {
        assertThrows(IllegalArgumentException.class, () -> HookResult.deny().withReplyCode(99));
        assertThrows(IllegalArgumentException.class, () -> HookResult.deny().withEnhancedStatus("5.7"));
        assertThrows(IllegalArgumentException.class, () -> HookResult.deny().withEnhancedStatus("3.0.0"));
    }

    @Test
    void laterCarriesTheStage() {
        CompletableFuture<HookResult> stage = new CompletableFuture<>();
        assertEquals(stage, HookResult.later(stage).pending().orElseThrow());
        assertTrue(HookResult.declined().pending().isEmpty());
    }

    @Test
    void everyHookNameMapsToItsInterface() {
        for (HookType hook : HookType.values()) {
            assertEquals(hook, HookType.forName(hook.hookName()).orElseThrow());
            assertTrue(hook.hookInterface().isInterface());
        }
    }
}
