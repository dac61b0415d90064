package microapp

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
)

var ginParam = regexp.MustCompile(`:([a-z_]+)`)

// openAPIPath turns /projects/:id into /projects/{id}.
func openAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// OpenAPI returns the OpenAPI 3 document of every registered route, built from
// the same declarations the router uses, so it cannot drift from the routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		path := openAPIPath(r.Path)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		op := map[string]any{
			"summary":     r.Summary,
			"tags":        []string{r.Tag},
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/api/v1", "", "/", "_", ":", "", "-", "_").Replace(r.Path),
		}
		var params []map[string]any
		for _, m := range ginParam.FindAllStringSubmatch(r.Path, -1) {
			typ := "integer"
			if m[1] == "code" { // template codes
				typ = "string"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Request))}}}
		}
		if r.Upload {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object",
					"properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}}}
		}
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		if r.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response))}}
		} else if !r.Raw {
			status = http.StatusNoContent
			ok["description"] = http.StatusText(status)
		}
		responses := map[string]any{strconv.Itoa(status): ok, "default": map[string]any{"$ref": "#/components/responses/Error"}}
		op["responses"] = responses
		switch {
		case r.Access.Public:
			op["security"] = []any{}
		case len(r.Access.Roles) > 0:
			op["x-roles"] = r.Access.Roles
		}
		if r.Access.ProjectParam != "" {
			op["x-project-scoped"] = true
		}
		if r.Access.LineWrite {
			op["x-own-line-refused"] = true
		}
		paths[path][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Hehuo (合伙) API", "version": s.deps.Version,
			"description": "Employee co-investment. Amounts are strings with two decimals. Errors are {\"error\":{\"code\",\"message\",\"field\"}}: 400 bad input, 401 not signed in, 403 wrong role, 404 missing or outside your scope, 409 state or version conflict, 422 broken business rule, 423 locked."},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
			"responses": map[string]any{"Error": map[string]any{"description": "An error", "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(errorBody{}))}}}},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}},
	}
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	dateType    = reflect.TypeOf(civil.Date{})
	decimalType = reflect.TypeOf(decimal.Decimal{})
	rawType     = reflect.TypeOf([]byte(nil))
)

// schemaOf describes t as a JSON schema, following json tags.
func schemaOf(t reflect.Type) map[string]any { return schemaWalk(t, map[reflect.Type]bool{}) }

// schemaWalk describes t; seen holds the structs being described, so a
// recursive type (the project tree) refers to itself instead of recursing forever.
func schemaWalk(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var s map[string]any
	switch {
	case t == timeType:
		s = map[string]any{"type": "string", "format": "date-time"}
	case t == dateType:
		s = map[string]any{"type": "string", "format": "date", "example": "2019-10-21"}
	case t == decimalType || t.Name() == "Amount":
		s = map[string]any{"type": "string", "pattern": `^-?\d+(\.\d{1,2})?$`, "example": "28894.00"}
	case t.Name() == "RawMessage":
		s = map[string]any{}
	default:
		switch t.Kind() {
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
			s = map[string]any{"type": "integer"}
		case reflect.Float32, reflect.Float64:
			s = map[string]any{"type": "number"}
		case reflect.String:
			s = map[string]any{"type": "string"}
		case reflect.Slice, reflect.Array:
			s = map[string]any{"type": "array", "items": schemaWalk(t.Elem(), seen)}
		case reflect.Map:
			s = map[string]any{"type": "object", "additionalProperties": schemaWalk(t.Elem(), seen)}
		case reflect.Struct:
			if seen[t] {
				return map[string]any{"type": "object", "description": "the same shape as its parent (" + t.Name() + ")"}
			}
			seen[t] = true
			props := map[string]any{}
			addFields(t, props, seen)
			delete(seen, t)
			s = map[string]any{"type": "object", "properties": props}
		default:
			s = map[string]any{}
		}
	}
	if nullable {
		s["nullable"] = true
	}
	return s
}

func addFields(t reflect.Type, props map[string]any, seen map[reflect.Type]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name := strings.Split(tag, ",")[0]
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props, seen)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaWalk(f.Type, seen)
	}
}
