package org.postern.smtp.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TestConfigTest {
    @interface Sample {
        String reject__type() default "perm";

        long timeout_ms() default 5000;

        String plain() default "x";

        String dash$_$key() default "";
    }

    @Test
    void valuesAreGivenByConfigurationKeyAndTheRestAreDefaults() throws Exception {
        Sample sample = TestConfig.of(Sample.class, Map.of("reject_type", "temp", "timeout.ms", 400L, "dash-key", "d"));
        assertEquals("temp", sample.reject__type());
        assertEquals(400L, sample.timeout_ms());
        assertEquals("x", sample.plain());
        assertEquals("d", sample.dash$_$key());
        assertEquals(Sample.class, sample.annotationType());
    }
}
