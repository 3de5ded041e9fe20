package chsink_test

import "reflect"

func newOf(t reflect.Type) any { return reflect.New(t).Interface() }

func deref(v any) any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "NULL"
		}
		rv = rv.Elem()
	}
	return rv.Interface()
}
