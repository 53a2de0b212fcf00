package org.postern.smtp.api.propertytypes;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Sets {@code postern.hook.timeout}: how many seconds one call of this plugin may take before the core answers
 * a temporary failure in its place. Without it the core's {@code hook_timeout} applies.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface HookTimeout {
    String PREFIX_ = "postern.";

    int value();
}
