package com.example.postern.maxrcpt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.annotation.Annotation;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class MaxRcptTest {
    private static MaxRcpt.Config max(int value) {
        return new MaxRcpt.Config() {
            @Override
            public int max_rcpt() {
                return value;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return MaxRcpt.Config.class;
            }
        };
    }

    @Test
    void declinesUntilTheLimitThenRefusesTemporarily() {
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<a@example.org>").recipient("<one@example.org>");
        MaxRcpt plugin = new MaxRcpt(max(2));
        assertEquals(ReturnCode.DECLINED, plugin.onRcpt(ctx.rcpt("<two@example.org>")).code());
        ctx.transaction().recipient("<two@example.org>");
        HookResult refused = plugin.onRcpt(ctx.rcpt("<three@example.org>"));
        assertEquals(ReturnCode.DENYSOFT, refused.code());
        assertEquals(452, refused.replyCode().orElseThrow());
        assertEquals("4.5.3", refused.enhancedStatus().orElseThrow());
    }
}
