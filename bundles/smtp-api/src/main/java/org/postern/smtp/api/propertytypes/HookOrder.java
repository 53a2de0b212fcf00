package org.postern.smtp.api.propertytypes;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Sets {@code postern.hook.order}: lower runs first; ties fall back to service ranking, then service id.
 * An admin overrides it with {@code postern.hook.order} in the plugin's configuration.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface HookOrder {
    String PREFIX_ = "postern.";

    int value();
}
